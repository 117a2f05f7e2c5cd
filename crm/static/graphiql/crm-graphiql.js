// The CRM's GraphiQL page: GraphiQL with the explorer plugin, every asset served by the API
// itself, and a small sign-in form that runs the `login` mutation and puts the bearer token
// in GraphiQL's Headers editor (where it can be read, changed or removed).
(function () {
  "use strict";
  const h = React.createElement;
  const endpoint = window.location.origin + window.location.pathname;
  const socket = new URL(endpoint);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";
  const fetcher = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: socket.toString() });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();
  const parameters = new URLSearchParams(window.location.search);
  const LOGIN =
    "mutation SignIn($input: LoginInput!) { login(input: $input) " +
    "{ accessToken expiresAt user { email } errors { message } } }";
  const WELCOME =
    "# The CRM's GraphQL API. Sign in above (the token goes to the Headers tab),\n" +
    "# then run a query with Ctrl-Enter, for example:\n\n{\n  me {\n    email\n    roles\n  }\n}\n";

  async function signIn(email, password) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json",
      },
      body: JSON.stringify({ query: LOGIN, variables: { input: { email, password } } }),
    });
    const body = await response.json();
    const login = body.data && body.data.login;
    const problems = login ? login.errors : body.errors || [];
    if (!login || problems.length) {
      throw new Error(problems.map((e) => e.message).join(" ") || "Sign-in failed.");
    }
    return login;
  }

  function SignInForm(props) {
    const [email, setEmail] = React.useState("");
    const [password, setPassword] = React.useState("");
    const [status, setStatus] = React.useState(
      "Anonymous callers may only sign in and read the schema.",
    );

    async function submit(event) {
      event.preventDefault();
      setStatus("Signing in...");
      try {
        const login = await signIn(email, password);
        setPassword("");
        props.onToken(login.accessToken);
        const until = new Date(login.expiresAt).toLocaleString();
        setStatus(`Signed in as ${login.user.email} until ${until}.`);
      } catch (error) {
        setStatus(error.message);
      }
    }

    return h(
      "form",
      { className: "crm-sign-in", onSubmit: submit, "aria-label": "Sign in" },
      h("label", null, "Email ", h("input", {
        type: "email", value: email, autoComplete: "username", required: true,
        onChange: (e) => setEmail(e.target.value),
      })),
      h("label", null, "Password ", h("input", {
        type: "password", value: password, autoComplete: "current-password", required: true,
        onChange: (e) => setPassword(e.target.value),
      })),
      h("button", { type: "submit" }, "Sign in"),
      h("span", { role: "status" }, status),
    );
  }

  function Page() {
    const [headers, setHeaders] = React.useState(parameters.get("headers") || undefined);
    function takeToken(token) {
      setHeaders(JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
    }
    return h(
      React.Fragment,
      null,
      h(SignInForm, { onToken: takeToken }),
      h(GraphiQL, {
        fetcher,
        plugins: [explorer],
        defaultQuery: parameters.get("query") || WELCOME,
        headers,
        onEditHeaders: setHeaders,
        defaultEditorToolsVisibility: true,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
        inputValueDeprecation: true,
      }),
    );
  }

  const root = document.getElementById("crm-graphiql");
  root.textContent = "";
  ReactDOM.createRoot(root).render(h(Page));
})();
