"""How pages, model cards and notes name a person."""


def display_name(user) -> str:
    """Their full name, else their username; "—" for nobody."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()
