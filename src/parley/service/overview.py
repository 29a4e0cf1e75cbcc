"""What agents and supervisors may read about their organization (contract 12): interactions and
who is ready. Supervisors see every interaction; an agent sees only those it is or was in."""

from __future__ import annotations

from dataclasses import dataclass, replace

from parley.domain.accounts import User
from parley.domain.errors import NotFound, RuleViolation
from parley.domain.interactions import Interaction
from parley.service.accounts import Accounts
from parley.service.engagement import Engagement
from parley.service.interactions import InteractionBook
from parley.service.ports import InteractionPage, InteractionQuery, Store

USERS_PAGE = 1000


@dataclass(frozen=True, slots=True)
class UserState:
    user: User
    ready: bool
    reason_id: str
    since: float
    max_concurrent: int
    load: int


def _supervisors_only(actor: User, what: str) -> None:
    if not actor.is_supervisor:
        raise RuleViolation.of("userId", "notSupervisor", f"only a supervisor may {what}")


class Overview:
    def __init__(self, store: Store, accounts: Accounts, book: InteractionBook, engagement: Engagement) -> None:
        self.store = store
        self.accounts = accounts
        self.book = book
        self.engagement = engagement

    async def interactions(self, actor: User, query: InteractionQuery) -> InteractionPage:
        if not actor.is_supervisor:
            if query.user_id not in (None, actor.user_id):
                _supervisors_only(actor, "list another user's interactions")
            query = replace(query, user_id=actor.user_id)
        return await self.store.find_interactions(query)

    async def interaction(self, actor: User, interaction_id: str) -> Interaction:
        interaction = await self.book.get(actor.org_id, interaction_id)
        if not actor.is_supervisor and actor.user_id not in interaction.everyone:
            # Someone else's interaction is indistinguishable from a missing one.
            raise NotFound.of("interactionId", "notFound", f"interaction {interaction_id} does not exist")
        return interaction

    async def users(self, actor: User, ready: bool | None) -> list[UserState]:
        """Every user's availability; agents may read it too, to pick whom to transfer to."""
        found: list[UserState] = []
        token: str | None = None
        while True:
            page = await self.accounts.find_users(actor.org_id, None, None, USERS_PAGE, token)
            for user in page.users:
                a = self.engagement.availability(actor.org_id, user.user_id)
                if ready is None or a.ready == ready:
                    since = a.since or user.created_at
                    found.append(UserState(user, a.ready, a.reason_id, since, a.max_concurrent, a.handling))
            token = page.continuation_token
            if token is None:
                return found
