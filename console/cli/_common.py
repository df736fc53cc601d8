"""What every console CLI shares: who acts from a shell, and which store it works on."""

from __future__ import annotations

import sys

from console._identity import Identity, Role, local_actor, os_user
from console._running import NoConsoleStore, StoreChoice, choose_store
from console.settings import ConsoleSettings

WHICH_STORE = (
    "Which store and service: LIGHTONOCR_DATABASE_URL or LIGHTONOCR_DATA_DIR when set, else "
    "the running console's (its worker writes where its store and service are in "
    "~/.local/state/lightonocr/consoles), else .lightonocr in the current directory if it "
    "exists; otherwise the command refuses and creates nothing. --verbose prints the choice."
)


# Job ids are 64-bit integers in every store; a larger one names no job.
MAX_ID = 2**63 - 1


def epilog() -> str:
    """The --help's last words: the rule, and what it chooses here and now."""
    try:
        now = choose_store(creates=True).describe()
    except NoConsoleStore as refusal:
        now = f"here and now: {refusal}"
    return f"{WHICH_STORE}\n\n{now}"


def cli_identity(env: dict[str, str] | None = None) -> Identity:
    """Who acts from a shell, as an operator: whoever can run this can reach the store
    directly, so a role check here would protect nothing. The audit must not claim more
    than it knows, though: on a local console the actor is LIGHTONOCR_ACTOR or the OS user
    (as in the UI); where the console verifies people (IAP, OIDC) nothing in a shell is
    verified, so the row says "os:USER via CLI", never an e-mail a variable asserts."""
    if ConsoleSettings.from_env(env).identity == "local":
        return Identity(local_actor(env), Role.OPERATOR, "cli")
    return Identity(f"os:{os_user()} via CLI", Role.OPERATOR, "cli")


def store_choice(*, creates: bool, verbose: bool = False) -> StoreChoice | None:
    """The store a command acts on, said on stderr with `verbose`; None (the refusal said
    on stderr) when no console's store can be found."""
    try:
        choice = choose_store(creates=creates)
    except NoConsoleStore as refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return None
    if verbose:
        print(choice.describe(), file=sys.stderr)
    return choice
