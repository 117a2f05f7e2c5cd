async def test_a_private_campaigns_events_reach_only_who_sees_it(db: OpenDatabase) -> None:
    admin, marketing, sales = await an_agency()
    private = await campaigns.create_campaign(
        marketing, {"title": "Secret", "code": "secret", "campaign_type": "referral"}
    )
    internal = await campaigns.create_campaign(
        marketing,
        {"title": "Team", "code": "team", "campaign_type": "referral", "visibility": "internal"},
    )
    events = await Event.filter(type="campaign.created").order_by("id")

    async def seen_by(actor: Actor) -> list[str]:
        return [event.aggregate_id for event in await visible_events(actor, events)]

    assert await seen_by(admin) == [str(private.id), str(internal.id)]
    assert await seen_by(marketing) == [str(private.id), str(internal.id)]
    assert await seen_by(sales) == [str(internal.id)]
