"""The steering group's dashboard in `beholde serve`: read-only pages behind one-time links.

`/styring` in chat or `beholde dashboard link NAME` gives a person with role `steering` or
`leader` a link valid 15 minutes. Opening it shows one button (a chat's link preview fetches
the page but never presses it); pressing it spends the link and sets a session cookie
(HttpOnly, SameSite=Lax, 8 hours) for `/styring`. Everything else gets "no access".

Modules: `web` (the pages and the login, mounted by `beholde serve`), `links` (one-time
links, light enough for the CLI and the chat), `commands` (`/styring`, priorities as
tasks), `figures` and `page` (what is shown, and how).
"""
