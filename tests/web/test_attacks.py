"""The attack suite of issue 20: each of its ten findings, attempted against ``setpiece serve``.

The board was attacked as an outsider and as each role; ten things failed. Each test here
repeats one attack against the real command in its own process, on a real port (with
``--proxy-headers``, so a test can come from another client address or over "https" as a
reverse proxy would say), or runs the ``setpiece`` command a user types, and asserts the
behaviour the issue asks for. Where the issue leaves a detail open (the exact status, the
wording), a test asserts the part any fix must have: the status class, no 5xx, no server path,
the same answer for a real and an unknown name.

One film is served for the whole module; a test that changes an account uses a member of its
own, so the tests do not depend on each other's order. The stateful schemathesis runs come
last: they change the film at random.
"""

from __future__ import annotations

import base64
import csv
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("argon2")
httpx = pytest.importorskip("httpx")

from web.attack_helpers import (  # noqa: E402
    Browser,
    Ran,
    Served,
    Unfinished,
    alert_text,
    free_port,
    open_temp_bytes,
    server_env,
    setpiece,
)

# Members made before the server starts: the four roles, five uploaders (finding 1), and one
# member for each test that changes an account.
ROLES = {"ana": "admin", "dora": "director", "art": "artist", "vic": "viewer"}
UPLOADERS = [f"up{n}" for n in range(1, 6)]
OWN = [
    "logout",
    "reset",
    "revokeall",
    "revokeone",
    "revokeapi",
    "otp",
    "change",
    "clichange",
    "enum",
    "locked",
    "unlocked",
    "origin",
    "pages",
]
FORMULAS = {
    "3A": "=cmd|' /C calc'!A0",
    "3B": '+HYPERLINK("http://evil.example","click")',
    "3C": "@SUM(1+1)*cmd|' /C calc'!A0",
    "3D": "-2+3+cmd|' /C calc'!A0",
    "3E": "\t=1+1",
    "3F": "\r=1+1",
    "3G": "'quoted from the start",
}
# [web] lock_after = 3: an account locks at the third wrong password in a row.
LOCK_AFTER = 3


@dataclass
class Board:
    """The served film: where it is, who is in it, and how to reach it."""

    root: Path
    tmp: Path
    env: dict[str, str]
    served: Served
    passwords: dict[str, str]
    tokens: dict[str, str]
    take_ids: list[str]

    @property
    def url(self) -> str:
        return self.served.url

    def api(self, name: str | None, **headers: str) -> Any:
        """An httpx client calling the API with ``name``'s token (None: anonymous)."""
        if name is not None:
            headers["Authorization"] = f"Bearer {self.tokens[name]}"
        return httpx.Client(base_url=self.url, timeout=20, follow_redirects=False, headers=headers)

    def cli(self, *args: str, stdin: str | None = None) -> Ran:
        return setpiece(self.root, *args, env=self.env, stdin=stdin)

    def browser(self, **headers: str) -> Browser:
        return Browser(self.url, **headers)


def _make_film(root: Path, toml: str = "") -> tuple[dict[str, str], dict[str, str], list[str]]:
    from mediafactory import write_png
    from setpiece.production.accounts import add_member, issue_token
    from setpiece.production.context import Production, init_production
    from setpiece.production.scenes import add_scene
    from setpiece.production.shots import add_shot
    from setpiece.production.takes import import_takes
    from setpiece.production.views import Recipe

    passwords: dict[str, str] = {}
    tokens: dict[str, str] = {}
    with init_production(root, name="Attack Film", actor="ana") as production:
        members = {**ROLES, **dict.fromkeys(UPLOADERS, "artist"), **dict.fromkeys(OWN, "artist")}
        for name, role in members.items():
            passwords[name] = add_member(production, name, role).password
            owner = Production(production.config, production.db, production.store, name)
            tokens[name] = issue_token(owner, name)
        scene = add_scene(production, "INT. TRAIN - NIGHT").number
        add_shot(production, scene, "1A", description="Anna walks", duration=2)
        add_shot(production, scene, "1B", description="Anna stops", duration=2)
        other = add_scene(production, "EXT. PLATFORM - DAY").number
        for code, description in FORMULAS.items():
            add_shot(production, other, code, description=description)
        media = root.parent / "media"
        media.mkdir()
        take_ids = []
        for seed in (1, 2):
            still = write_png(media / f"still{seed}.png", seed=seed)
            made = import_takes(production, "1A", [still], Recipe(prompt="Anna", seed=seed))
            take_ids.append(made.created[0].id)
    with (root / "setpiece.toml").open("a") as handle:
        handle.write(
            f"\n[web]\nslow_after = {LOCK_AFTER}\nlock_after = {LOCK_AFTER}\nlock_minutes = 5\n"
            + toml
        )
    return passwords, tokens, take_ids


@contextmanager
def _served_film(tmp_path_factory: pytest.TempPathFactory, toml: str = "") -> Iterator[Board]:
    base = tmp_path_factory.mktemp("attacks")
    root = base / "film"
    tmp = base / "server-tmp"
    tmp.mkdir()
    passwords, tokens, take_ids = _make_film(root, toml)
    env = server_env(tmp)
    served = Served(root, env)
    try:
        served.wait_until_up()
        yield Board(root, tmp, env, served, passwords, tokens, take_ids)
    finally:
        served.stop()


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """The film most attacks share (each changes only members of its own)."""
    with _served_film(tmp_path_factory) as served:
        yield served


@pytest.fixture(scope="module")
def cursor_board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """A film of its own for the cursor attacks: before the fix, a forged cursor left the
    server unable to answer anything, which would fail every later test of the module."""
    with _served_film(tmp_path_factory) as served:
        yield served


@pytest.fixture(scope="module")
def fuzz_board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """A film of its own for the fuzzing, which changes it at random; a live stream ends
    after a second (its parameters are what is fuzzed)."""
    with _served_film(tmp_path_factory, "stream_seconds = 1\npoll_seconds = 0.05\n") as served:
        yield served


def _error_message(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    message = body["error"]["message"]
    assert isinstance(message, str) and "\n" not in message
    return message


def _one_line_refusal(ran: Ran, code: int = 2) -> str:
    """A command refused as bad input: exit ``code``, one line, no traceback."""
    assert ran.code == code, f"exit {ran.code}: {ran.err or ran.out}"
    assert "Traceback" not in ran.err
    lines = [line for line in ran.err.splitlines() if line.strip()]
    assert len(lines) == 1, ran.err
    return lines[0]


# 1. The caller is identified before any request body is read -----------------------------------

UPLOAD_ROUTES = ["/api/v1/shots/1A/takes", "/shots/1A/takes"]


@pytest.mark.parametrize("path", UPLOAD_ROUTES)
@pytest.mark.parametrize("credential", ["none", "a forged token"])
def test_f1_an_upload_without_a_valid_credential_is_refused_before_its_body(
    board: Board, path: str, credential: str
) -> None:
    """Finding 1: an upload (API or page form) with no credential, or a forged Bearer token,
    is answered 401 (a page may instead send a visitor to /login: 303, or 403) on its headers
    alone, while its 64 MB body is still unfinished, and no temp file holds its bytes."""
    headers = {"Authorization": "Bearer sp_forgedforgedforged"} if credential != "none" else {}
    upload = Unfinished(board.url, path, headers, declared=64 * 1024 * 1024)
    try:
        upload.send_some(3 * 1024 * 1024)  # past starlette's 1 MB in memory: a spooled file
        answer = upload.answer(wait=5)
        held = open_temp_bytes(board.served.pids(), board.tmp)
    finally:
        upload.close()
    assert answer.status is not None, (
        "no answer while the body was unfinished: the body is read before the caller is known"
    )
    allowed = {401} if path.startswith("/api/") else {401, 403, 303}
    assert answer.status in allowed, answer
    assert held < 1024 * 1024, f"the server holds {held} bytes of the anonymous body on disk"


def _upload_slot(board: Board, name: str) -> Unfinished:
    upload = Unfinished(
        board.url,
        "/api/v1/shots/1A/takes",
        {"Authorization": f"Bearer {board.tokens[name]}"},
        declared=16 * 1024 * 1024,
    )
    upload.send_some(256 * 1024)
    return upload


def _assert_busy(answer: Any) -> None:
    assert answer.status == 429, f"answered {answer.status} (None: nothing within 5 s)"
    retry = answer.headers.get("retry-after", "")
    assert retry.isdigit() and int(retry) >= 1, answer.headers


def test_f1_a_member_has_at_most_two_uploads_at_once(board: Board) -> None:
    """Finding 1: [web] max_uploads_per_user = 2: a member's third upload while two are
    still coming in is answered 429 with a Retry-After in seconds, at once (its body unread);
    once those two end, the member can upload again."""
    slots = [_upload_slot(board, "up1") for _ in range(2)]
    time.sleep(0.5)
    third = _upload_slot(board, "up1")
    try:
        answer = third.answer(wait=5)
    finally:
        for upload in [*slots, third]:
            upload.close()
    _assert_busy(answer)
    from mediafactory import write_png

    still = write_png(board.tmp.parent / "again.png", seed=9)
    with board.api("up1") as client:
        deadline = time.monotonic() + 10
        while True:
            with still.open("rb") as handle:
                done = client.post(
                    "/api/v1/shots/1B/takes", files={"file": ("again.png", handle, "image/png")}
                )
            if done.status_code != 429 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert done.status_code == 201, done.text


def test_f1_the_server_has_at_most_eight_uploads_at_once(board: Board) -> None:
    """Finding 1: [web] max_uploads = 8: with eight uploads coming in (four members, two
    each), a ninth from a fifth member is answered 429 with Retry-After at once."""
    slots = [_upload_slot(board, name) for name in UPLOADERS[:4] for _ in range(2)]
    time.sleep(0.5)
    ninth = _upload_slot(board, UPLOADERS[4])
    try:
        answer = ninth.answer(wait=5)
    finally:
        for upload in [*slots, ninth]:
            upload.close()
    _assert_busy(answer)


# 2. Sessions and tokens end ---------------------------------------------------------------------


def test_f2_a_cookie_copied_before_logout_is_refused_after_it(board: Board) -> None:
    """Finding 2: logging out ends the session on the server: a copy of the cookie taken
    before the logout answers 401 on the API afterwards and no longer opens the board."""
    with board.browser() as browser:
        browser.log_in_for_good("logout", board.passwords["logout"])
        copied = browser.cookie
        assert browser.client.get("/api/v1/me").status_code == 200
        out = browser.post("/logout", data={"csrf_token": browser.csrf})
        assert out.status_code == 303, out.text[:300]
    with httpx.Client(
        base_url=board.url, cookies={"setpiece_session": copied}, follow_redirects=False
    ) as thief:
        assert thief.get("/api/v1/me").status_code == 401
        page = thief.get("/board")
        assert page.status_code in (303, 401), page.status_code
        if page.status_code == 303:
            assert page.headers["location"].startswith("/login")


def test_f2_an_admin_reset_ends_the_members_sessions_and_tokens(board: Board) -> None:
    """Finding 2: `setpiece user password NAME` (an admin's reset) ends every session and
    revokes every token of NAME at once (401); the new one-time password it prints logs in;
    other members' tokens keep working."""
    with board.browser() as browser:
        browser.log_in_for_good("reset", board.passwords["reset"])
        reset = board.cli("--as", "ana", "user", "password", "reset")
        assert reset.code == 0, reset.err
        assert browser.client.get("/api/v1/me").status_code == 401
    with board.api("reset") as client:
        assert client.get("/api/v1/me").status_code == 401
    with board.api("art") as client:
        assert client.get("/api/v1/me").status_code == 200
    printed = reset.out.split()[-1]  # stdout is the password alone, for scripts
    with board.browser() as again:
        assert again.login("reset", printed).status_code == 303


def test_f2_revoke_all_tokens_by_command(board: Board) -> None:
    """Finding 2: `setpiece user revoke NAME --all` revokes every token of NAME (401 after),
    and only NAME's."""
    with board.api("revokeall") as client:
        assert client.get("/api/v1/me").status_code == 200
        done = board.cli("--as", "ana", "user", "revoke", "revokeall", "--all")
        assert done.code == 0, done.err
        assert client.get("/api/v1/me").status_code == 401
    with board.api("dora") as client:
        assert client.get("/api/v1/me").status_code == 200


def _token_id(listing: Any, label: str) -> str:
    items = (
        listing
        if isinstance(listing, list)
        else next(v for v in listing.values() if isinstance(v, list))
    )
    found = [t for t in items if t.get("label") == label]
    assert len(found) == 1, listing
    return str(found[0]["id"])


def test_f2_tokens_are_listed_and_one_is_revoked_by_command(board: Board) -> None:
    """Finding 2: `setpiece user tokens NAME --json` lists NAME's tokens (label, created, last
    used) and never the secrets; `setpiece user revoke NAME --token ID` revokes that one
    (401) and leaves the others working."""
    farm = board.cli("--as", "ana", "user", "token", "revokeone", "--label", "farm")
    laptop = board.cli("--as", "ana", "user", "token", "revokeone", "--label", "laptop")
    assert farm.code == laptop.code == 0, farm.err + laptop.err
    farm_token, laptop_token = farm.out.split()[-1], laptop.out.split()[-1]
    listed = board.cli("--as", "ana", "user", "tokens", "revokeone", "--json")
    assert listed.code == 0, listed.err
    assert farm_token not in listed.out and laptop_token not in listed.out
    token_id = _token_id(json.loads(listed.out), "farm")
    done = board.cli("--as", "ana", "user", "revoke", "revokeone", "--token", token_id)
    assert done.code == 0, done.err
    for token, status in ((farm_token, 401), (laptop_token, 200)):
        answer = httpx.get(
            f"{board.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=20
        )
        assert answer.status_code == status, token


def test_f2_an_admin_revokes_tokens_through_the_api(board: Board) -> None:
    """Finding 2: an admin API route revokes a member's tokens (DELETE under
    /api/v1/users/{name}/tokens, all or one by id); a viewer calling it is refused 403; the
    revoked token answers 401."""
    with board.api("ana") as admin:
        paths = admin.get("/openapi.json").json()["paths"]
    routes = [p for p, ops in paths.items() if "token" in p and "delete" in ops]
    assert routes, "no API route revokes a token (DELETE .../tokens...)"
    every = [p for p in routes if p.rstrip("/").endswith("tokens")]
    one = [p for p in routes if p not in every]
    if every:
        path = every[0].replace("{name}", "revokeapi")
    else:
        listed = board.cli("--as", "ana", "user", "tokens", "revokeapi", "--json")
        assert listed.code == 0, listed.err
        items = json.loads(listed.out)
        items = (
            items
            if isinstance(items, list)
            else next(v for v in items.values() if isinstance(v, list))
        )
        path = one[0].replace("{name}", "revokeapi")
        path = path.replace(path[path.rindex("{") :], str(items[0]["id"]))
    with board.api("vic") as viewer:
        assert viewer.delete(path).status_code == 403
    with board.api("revokeapi") as member:
        assert member.get("/api/v1/me").status_code == 200
        with board.api("ana") as admin:
            done = admin.delete(path)
        assert done.status_code in (200, 204), done.text
        assert member.get("/api/v1/me").status_code == 401


# 3. Cursors and parameters ----------------------------------------------------------------------


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


FORGED = [
    _b64([2**63]),
    _b64([2**64 + 5]),
    _b64([-(2**63) - 1]),
    _b64([10**400]),
    _b64([2**63, 2**63, 2**63]),
    _b64([0, 0, 2**63]),
    _b64([-(2**63) - 1] * 3),
    _b64(["1e999"]),
    _b64(["x"]),
    _b64({"a": 1}),
    _b64([[[[[1]]]]]),
    _b64([None]),
    _b64([]),
    "!!!!",
    "AAAA" * 100,
    base64.urlsafe_b64encode(b"\xff\xfe\x00garbage").decode(),
    "%00",
]


def _cursor_routes(board: Board) -> list[str]:
    with board.api("ana") as admin:
        paths = admin.get("/openapi.json").json()["paths"]
    found = []
    for path, ops in paths.items():
        names = {p["name"] for p in ops.get("get", {}).get("parameters", [])}
        if "cursor" in names:
            found.append(path.replace("{code}", "1A"))
    return found


def test_f3_a_cursor_the_server_did_not_sign_is_refused(board: Board) -> None:
    """Finding 3: cursors are signed: the server's own next_cursor works, and a cursor a
    client made (the unsigned base64 JSON of a real key, the shape of the old cursors) or
    edited (one character changed) is refused 4xx."""
    with board.api("ana") as admin:
        first = admin.get("/api/v1/shots", params={"limit": 1})
        assert first.status_code == 200
        genuine = first.json()["next_cursor"]
        assert genuine
        assert admin.get("/api/v1/shots", params={"cursor": genuine, "limit": 1}).status_code == 200
        made = [_unsigned(genuine)]
        middle = len(genuine) // 2
        edited = genuine[:middle] + ("A" if genuine[middle] != "A" else "B") + genuine[middle + 1 :]
        for cursor in [*made, edited]:
            answer = admin.get("/api/v1/shots", params={"cursor": cursor, "limit": 1})
            assert 400 <= answer.status_code < 500, (cursor, answer.status_code)
        # The short lists: members by name, events by id, in the unsigned shape.
        for path, cursor in (("/api/v1/users", _b64(["ana"])), ("/api/v1/events", _b64([1]))):
            answer = admin.get(path, params={"cursor": cursor})
            assert 400 <= answer.status_code < 500, (path, answer.status_code)


def _unsigned(genuine: str) -> str:
    """A cursor naming the same key as ``genuine``, made by a client: the key re-encoded as
    unpadded base64url JSON (the unsigned shape), from the cursor's payload."""
    for payload in (genuine, *genuine.split(".")):
        try:
            key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            continue
        if isinstance(key, list):
            return _b64(key)
        if isinstance(key, dict):  # a signed envelope: keep its key, drop the signature
            inner = [v for v in key.values() if isinstance(v, list)]
            if inner:
                return _b64(inner[0])
    return _b64([0, 0, 0])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/events", {"after": str(2**63)}),
        ("/api/v1/events", {"after": "-1"}),
        ("/api/v1/shots", {"limit": str(2**63)}),
        ("/api/v1/jobs", {"limit": "0"}),
        ("/api/v1/events/stream", {"after": str(2**63)}),
        ("/api/v1/events/stream", {"after": str(2**64)}),
        ("/api/v1/events/stream", {"after": "-5"}),
    ],
)
def test_f3_numbers_out_of_range_are_refused(
    board: Board, path: str, params: dict[str, str]
) -> None:
    """Finding 3: every numeric parameter is range-checked: `after` of 2^63 and more or below
    0, a limit of 0 or 2^63, on the lists and on /events/stream, is refused 4xx with the error
    body before anything is streamed (today the stream dies after its first answer)."""
    with board.api("ana") as admin, admin.stream("GET", path, params=params, timeout=10) as answer:
        assert 400 <= answer.status_code < 500, answer.status_code
        answer.read()
        _error_message(answer)


def test_f3_forged_cursors_are_refused_on_every_route_that_takes_one(cursor_board: Board) -> None:
    """Finding 3: on every route whose OpenAPI parameters include `cursor` (found in the
    document, not listed by hand: /shots, /jobs and /events among them), a forged cursor
    (numbers of 2^63 and more, negative, not numbers, bad shapes, base64 garbage) is refused
    as bad input: a 4xx with the one-line error body, never a 5xx."""
    routes = _cursor_routes(cursor_board)
    assert {"/api/v1/shots", "/api/v1/jobs", "/api/v1/events"} <= set(routes), routes
    failures = []
    with cursor_board.api("ana") as admin:
        for route in routes:
            for cursor in FORGED:
                try:
                    answer = admin.get(route, params={"cursor": cursor}, timeout=10)
                except httpx.TransportError as exc:
                    failures.append(f"{route} cursor={cursor[:30]}: no answer ({exc!r})")
                    if admin.get("/api/v1/me", timeout=10).status_code != 200:
                        pytest.fail("the server stopped answering:\n" + "\n".join(failures))
                    continue
                if not 400 <= answer.status_code < 500:
                    failures.append(f"{route} cursor={cursor[:30]}: {answer.status_code}")
                else:
                    _error_message(answer)
    assert not failures, "\n".join(failures)


# 4. The shot-list CSV -----------------------------------------------------------------------------


def test_f4_the_shot_list_csv_neutralises_formulas_and_reads_them_back(board: Board) -> None:
    """Finding 4: `setpiece shot export` writes no cell that starts with =, +, -, @, tab or
    carriage return (OWASP: a leading ' is added), and `setpiece shot import` of that file
    changes nothing: every description reads back exactly as typed (one that really starts
    with ' included)."""
    with board.api("ana") as admin:
        typed = {
            code: admin.get(f"/api/v1/shots/{code}").json()["description"] for code in FORMULAS
        }
    out = board.tmp.parent / "shots.csv"
    exported = board.cli("--as", "ana", "shot", "export", str(out), "--force")
    assert exported.code == 0, exported.err
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    cells = [cell for row in rows for cell in row]
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not dangerous, dangerous
    imported = board.cli("--as", "ana", "shot", "import", str(out))
    assert imported.code == 0, imported.err
    with board.api("ana") as admin:
        for code, description in typed.items():
            shot = admin.get(f"/api/v1/shots/{code}").json()
            assert shot["description"] == description, code


# 5. Login answers and lock-outs ---------------------------------------------------------------


def _attempts(board: Board, name: str, times: int, **headers: str) -> list[tuple[int, str]]:
    answers = []
    with board.browser() as browser:
        for _ in range(times):
            answer = browser.login(name, "not the password", **headers)
            answers.append((answer.status_code, alert_text(answer.text).replace(name, "NAME")))
    return answers


def test_f5_a_real_name_and_an_unknown_name_get_the_same_answers(board: Board) -> None:
    """Finding 5: wrong passwords for a real member and for a name nobody has get the same
    answers, attempt after attempt (same statuses, same messages, the name never shown),
    past the point where the real account locks."""
    real = _attempts(board, "enum", LOCK_AFTER + 3, **{"X-Forwarded-For": "192.0.2.10"})
    unknown = _attempts(board, "nobodyhere", LOCK_AFTER + 3, **{"X-Forwarded-For": "192.0.2.10"})
    assert all(400 <= status < 500 for status, _ in real), real
    assert real == unknown
    assert not any("enum" in message for _, message in real), real


def test_f5_nobody_can_lock_a_member_out_from_elsewhere(board: Board) -> None:
    """Finding 5: lock-out is by name and client address together: wrong passwords from one
    address (as a proxy reports it with --proxy-headers) do not stop the member logging in
    with the right one from another address."""
    _attempts(board, "locked", LOCK_AFTER + 2, **{"X-Forwarded-For": "203.0.113.66"})
    with board.browser(**{"X-Forwarded-For": "198.51.100.7"}) as browser:
        answer = browser.login("locked", board.passwords["locked"])
    assert answer.status_code == 303, alert_text(answer.text)


def test_f5_an_admin_unlocks_a_member(board: Board) -> None:
    """Finding 5: once locked from an address, even the right password is refused from it,
    until `setpiece user unlock NAME`; then it logs in."""
    where = {"X-Forwarded-For": "203.0.113.77"}
    _attempts(board, "unlocked", LOCK_AFTER, **where)
    with board.browser(**where) as browser:
        assert browser.login("unlocked", board.passwords["unlocked"]).status_code != 303
    done = board.cli("--as", "ana", "user", "unlock", "unlocked")
    assert done.code == 0, done.err
    with board.browser(**where) as browser:
        answer = browser.login("unlocked", board.passwords["unlocked"])
    assert answer.status_code == 303, alert_text(answer.text)


# 6. User names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "VIC",
        "Vic",
        "\uff56\uff49\uff43",  # fullwidth vic: NFKC folds it to vic
        "v\u0456\u0441",  # Latin v, Cyrillic i and es: looks like vic
        "<b>x</b>",
        "../../x",
        "a/b",
        "x\u200by",  # a zero-width space inside
        "ana ",
    ],
)
def test_f6_names_that_fold_together_or_are_unsafe_are_refused(board: Board, name: str) -> None:
    """Finding 6: user names are NFKC-normalised and case-folded for uniqueness and limited
    to a safe set: adding one that folds to an existing member (VIC beside vic) or holds
    markup, slashes, confusable or invisible characters is refused 4xx (the one-line error),
    and no such member appears."""
    with board.api("ana") as admin:
        answer = admin.post("/api/v1/users", json={"name": name, "role": "admin"})
        assert 400 <= answer.status_code < 500, (name, answer.status_code)
        _error_message(answer)
        listed = admin.get("/api/v1/users", params={"limit": 1000}).json()["items"]
    assert sorted(u["name"] for u in listed).count("vic") == 1
    assert name not in {u["name"] for u in listed}


def test_f6_the_command_refuses_a_name_that_folds_to_a_member(board: Board) -> None:
    """Finding 6: `setpiece user add VIC --role admin` beside the viewer vic exits 2 with one
    line, and makes no admin."""
    _one_line_refusal(board.cli("--as", "ana", "user", "add", "VIC", "--role", "admin"))
    listed = board.cli("--as", "ana", "user", "list", "--json")
    assert "VIC" not in listed.out


# 7. One-time passwords and changing one's own ------------------------------------------------------


def test_f7_a_one_time_password_logs_in_once_and_leads_to_a_new_password(board: Board) -> None:
    """Finding 7: the one-time password logs in once, straight to /account/password (303
    there); until a new password is set the API answers 403 naming /account/password; a
    second login with the one-time password is refused; the new password logs in to /."""
    once = board.passwords["otp"]
    with board.browser() as first:
        answer = first.login("otp", once)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/account/password")
        blocked = first.client.get("/api/v1/shots")
        assert blocked.status_code == 403
        assert "/account/password" in _error_message(blocked)
        with board.browser() as second:
            assert second.login("otp", once).status_code != 303
        assert first.set_password(once, "otp's own passphrase 7").status_code in (200, 303)
    with board.browser() as later:
        answer = later.login("otp", "otp's own passphrase 7")
        assert answer.status_code == 303 and answer.headers["location"] == "/"
    with board.browser() as stranger:
        assert stranger.login("otp", once).status_code != 303


def test_f7_changing_ones_password_on_the_board_ends_other_sessions(board: Board) -> None:
    """Finding 7 (and 2): /account/password sets one's own password; every other session of
    the member ends (401), the old password is refused, the new one logs in."""
    with board.browser() as one, board.browser() as other:
        current = one.log_in_for_good("change", board.passwords["change"])
        assert other.login("change", current).status_code == 303
        assert other.client.get("/api/v1/me").status_code == 200
        changed = one.set_password(current, "changed on the board 99")
        assert changed.status_code in (200, 303), changed.text[:300]
        assert other.client.get("/api/v1/me").status_code == 401
    with board.browser() as fresh:
        assert fresh.login("change", current).status_code != 303
        assert fresh.login("change", "changed on the board 99").status_code == 303


def test_f7_setting_ones_own_password_from_standard_input(board: Board) -> None:
    """Finding 7: `setpiece --as NAME user password --change` reads the new password (twice;
    after the current one where its help says it asks for it) from standard input (not a
    terminal), exits 0, and the new password logs in while the
    one-time password no longer does."""
    new = "typed into a pipe 123"
    lines = f"{new}\n{new}\n"
    helped = board.cli("user", "password", "--help")
    if "current" in helped.out.lower():  # it asks for the current password first
        lines = f"{board.passwords['clichange']}\n{lines}"
    done = board.cli("--as", "clichange", "user", "password", "--change", stdin=lines)
    assert done.code == 0, done.err
    with board.browser() as browser:
        assert browser.login("clichange", board.passwords["clichange"]).status_code != 303
        assert browser.login("clichange", new).status_code == 303


# 8. Internal errors instead of refusals --------------------------------------------------------------


def _tiny_project(folder: Path, toml: str = "") -> Path:
    from setpiece.production.context import init_production
    from setpiece.production.scenes import add_scene
    from setpiece.production.shots import add_shot

    with init_production(folder, name="Tiny") as production:
        scene = add_scene(production, "INT. ROOM - DAY").number
        add_shot(production, scene, "1A", description="Anna sits", duration=2)
    if toml:
        with (folder / "setpiece.toml").open("a") as handle:
            handle.write("\n" + toml + "\n")
    return folder


def test_f8_an_otio_clip_with_a_nan_duration_is_refused(board: Board, tmp_path: Path) -> None:
    """Finding 8: `setpiece edit import` of an OTIO cut whose clip has a NaN duration exits 2
    with one line (no traceback, not exit 1) and changes nothing."""
    import opentimelineio as otio

    root = _tiny_project(tmp_path / "tiny")
    nan = otio.opentime.RationalTime(float("nan"), 24)
    clip = otio.schema.Clip(
        name="1A", source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), nan)
    )
    track = otio.schema.Track()
    track.append(clip)
    timeline = otio.schema.Timeline(name="cut")
    timeline.tracks.append(track)
    cut = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(cut))
    _one_line_refusal(setpiece(root, "edit", "import", str(cut), env=board.env))


@pytest.mark.parametrize(
    "template",
    ["{framing", "{__class__.__mro__}", "{framing.__class__}", "{subjects[0]}", "{framing!r:>{9}}"],
)
def test_f8_a_prompt_template_that_reaches_into_objects_is_refused(
    board: Board, tmp_path: Path, template: str
) -> None:
    """Finding 8: a [prompts] template with an unclosed brace, attribute or index access, or a
    conversion, is refused as bad input (exit 2, one line) by the command that reads it, and
    nothing of Python's objects (a class, an mro) is printed."""
    root = _tiny_project(tmp_path / "tiny", f"[prompts]\ntemplate = {json.dumps(template)}")
    ran = setpiece(root, "render", "1A", "--dry-run", env=board.env)
    line = _one_line_refusal(ran)
    assert "<class" not in ran.out + line and "mro" not in ran.out.lower()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("duration", "nan"),
        ("duration", "inf"),
        ("duration", "-inf"),
        ("duration", "1e400"),
        ("lens_mm", "nan"),
        ("lens_mm", "inf"),
    ],
)
def test_f8_a_number_that_is_not_finite_in_the_shot_list_is_refused(
    board: Board, tmp_path: Path, column: str, value: str
) -> None:
    """Finding 8: `setpiece shot import` of a CSV whose planned duration is NaN, infinite or
    out of range (a duration in seconds, a lens in mm) exits 2 with one line and changes
    nothing."""
    root = _tiny_project(tmp_path / "tiny")
    sheet = tmp_path / "shots.csv"
    assert setpiece(root, "shot", "export", str(sheet), env=board.env).code == 0
    with sheet.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index(column)] = value
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    _one_line_refusal(setpiece(root, "shot", "import", str(sheet), env=board.env))
    shown = setpiece(root, "shot", "show", "1A", "--json", env=board.env)
    assert json.loads(shown.out)["planned_seconds"] == 2
    assert json.loads(shown.out)["lens_mm"] is None


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_f8_a_setting_that_is_not_finite_is_refused(
    board: Board, tmp_path: Path, value: str
) -> None:
    """Finding 8: a float setting of NaN or infinity in setpiece.toml ([web] poll_seconds) is
    refused with the key named: `setpiece serve` exits 2 with one line, at once."""
    root = _tiny_project(tmp_path / "tiny", f"[web]\npoll_seconds = {value}")
    try:
        ran = setpiece(root, "serve", "--port", str(free_port()), env=board.env, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve started with poll_seconds = {value}")
    assert "poll_seconds" in _one_line_refusal(ran)


# 9. Media errors ----------------------------------------------------------------------------------

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'
HTML = b"<!DOCTYPE html><html><body><p>not a picture</p></body></html>\n"
TEXT = b"Just some notes about the shot, not an image at all.\n" * 4


@pytest.mark.parametrize(
    ("filename", "content", "really"),
    [
        ("notes.png", TEXT, "text"),
        ("page.png", HTML, "html"),
        ("drawing.svg", SVG, "svg"),
        ("drawing.png", SVG, "svg"),
    ],
)
def test_f9_an_upload_that_is_no_image_is_named_for_what_it_is(
    board: Board, filename: str, content: bytes, really: str
) -> None:
    """Finding 9: uploading a text, HTML or SVG file (named .png or not) as a take is refused
    4xx with a message that says what the file really is (sniffed from its bytes), not "a
    PNG image ... convert it to PNG" nor a Python error, and shows no server path."""
    with board.api("art") as artist:
        answer = artist.post(
            "/api/v1/shots/1A/takes", files={"file": (filename, content, "image/png")}
        )
    assert 400 <= answer.status_code < 500, answer.text
    message = _error_message(answer)
    assert "convert it to PNG" not in message and "a PNG image" not in message, message
    assert "NoneType" not in message and "attribute" not in message, message
    assert really in message.lower(), message
    for leak in (str(board.tmp), "/tmp/", "setpiece-upload-", str(board.root)):
        assert leak not in message, message


# 10. Takes by SHOT/NUMBER, the Back link, the Origin check, security headers ------------------------


@pytest.mark.parametrize("reference", ["1A/1", "1A%2F1"])
def test_f10_a_take_is_found_by_shot_and_number(board: Board, reference: str) -> None:
    """Finding 10: GET /api/v1/takes/{take} takes SHOT/NUMBER as its summary says (slash
    plain or encoded), and answers the same take as by its id; an unknown shot or number is
    404."""
    with board.api("vic") as viewer:
        by_id = viewer.get(f"/api/v1/takes/{board.take_ids[0]}")
        assert by_id.status_code == 200
        by_number = viewer.get(f"/api/v1/takes/{reference}")
        assert by_number.status_code == 200, by_number.text
        assert by_number.json() == by_id.json()
        assert viewer.get("/api/v1/takes/1A/99").status_code == 404
        assert viewer.get("/api/v1/takes/ZZ/1").status_code == 404


def test_f10_the_error_pages_back_link_works_under_the_csp(board: Board) -> None:
    """Finding 10: the error page's Back link is no `javascript:` URL (the board's CSP blocks
    those) and no inline handler or inline script stands in for it; the page's CSP allows no
    inline script."""
    import re

    with board.browser() as browser:
        board.passwords["pages"] = browser.log_in_for_good("pages", board.passwords["pages"])
        page = browser.client.get("/shots/NOPE", headers={"Referer": f"{board.url}/board"})
    assert page.status_code == 404
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    back = re.search(r"<a\b[^>]*>\s*Back\s*</a>", page.text)
    assert back is not None, page.text
    href = re.search(r'href="([^"]*)"', back.group(0))
    assert href is not None and not href.group(1).lower().startswith("javascript:"), back.group(0)
    assert not re.search(r"\son[a-z]+\s*=", page.text), "an inline event handler"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "an inline script"


def _origin_cases(url: str) -> list[dict[str, str]]:
    return [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": url.replace("127.0.0.1", "localhost.evil.example")},
        {"Origin": "", "Referer": "http://evil.example/attack.html"},
    ]


def test_f10_a_cross_site_origin_is_refused_behind_the_csrf_token(board: Board) -> None:
    """Finding 10: a change made with the session cookie AND its right CSRF token is still
    refused 403 when the browser says it comes from another site (Origin, or Referer where
    Origin is absent): API calls and page forms alike; the same request from the board's own
    origin goes through."""
    with board.browser() as browser:
        browser.log_in_for_good("origin", board.passwords["origin"])
        for headers in _origin_cases(board.url):
            sent = {k: v for k, v in headers.items() if v}
            if "Origin" not in sent:
                browser.client.headers.pop("Origin", None)
            api = browser.post(
                "/api/v1/shots/1A/comments", json={"note": "from elsewhere"}, headers=sent
            )
            assert api.status_code == 403, (headers, api.status_code)
            form = browser.post(
                "/shots/1A/comments",
                data={"note": "from elsewhere", "csrf_token": browser.csrf},
                headers=sent,
            )
            assert form.status_code == 403, (headers, form.status_code)
            browser.client.headers["Origin"] = board.url
        own = browser.post("/api/v1/shots/1A/comments", json={"note": "from the board"})
        assert own.status_code == 201, own.text
    with board.browser() as visitor:
        login = visitor.login("origin", board.passwords["origin"], Origin="http://evil.example")
        assert login.status_code == 403


PAGES = ["/", "/script", "/board", "/shots", "/shots/1A", "/jobs", "/disclosure", "/shots/NOPE"]


def _assert_security_headers(answer: Any, where: str) -> None:
    headers = answer.headers
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert "default-src" in csp and "unsafe-inline" not in csp, where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy"), where


def test_f10_every_page_and_answer_carries_the_security_headers(board: Board) -> None:
    """Finding 10: every page (logged in, the login page, an error page) and API answer,
    refusals included, carries the CSP with frame-ancestors 'none', nosniff and a referrer
    policy; over plain HTTP there is no HSTS."""
    with board.browser() as browser:
        board.passwords["pages"] = browser.log_in_for_good("pages", board.passwords["pages"])
        for path in [*PAGES, "/api/v1/me", "/api/v1/shots", "/api/v1/takes/ZZ"]:
            answer = browser.client.get(path)
            assert answer.status_code < 500, path
            _assert_security_headers(answer, path)
            assert "strict-transport-security" not in answer.headers, path
    with httpx.Client(base_url=board.url, timeout=20) as anonymous:
        for path in ["/login", "/api/v1/me", "/board"]:
            _assert_security_headers(anonymous.get(path), f"anonymous {path}")


def test_f10_hsts_when_the_proxy_says_https(board: Board) -> None:
    """Finding 10: behind --proxy-headers, a request the proxy marks https
    (X-Forwarded-Proto) is answered with Strict-Transport-Security (a max-age of a day or
    more), on pages and API answers alike."""
    with httpx.Client(
        base_url=board.url, timeout=20, headers={"X-Forwarded-Proto": "https"}
    ) as client:
        for path in ["/login", "/api/v1/me"]:
            hsts = client.get(path).headers.get("strict-transport-security", "")
            assert hsts.startswith("max-age="), (path, hsts)
            assert int(hsts.split("=")[1].split(";")[0]) >= 86400


# The stateful schemathesis runs ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("member", ["ana", "vic"])
def test_stateful_fuzzing_finds_no_server_error_nor_schema_mismatch(
    fuzz_board: Board, member: str
) -> None:
    """Issue 20, "Bad input": schemathesis's stateful phase over every route (links between
    operations inferred from the document), as an admin and as a viewer: no 5xx, and every
    answer the document describes matches its schema. Bounded (max_examples and
    stateful_step_count) to about a minute each on two cores."""
    schemathesis = pytest.importorskip("schemathesis")
    hypothesis = pytest.importorskip("hypothesis")
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_url(f"{fuzz_board.url}/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_board.tokens[member]}"}
    checks = [not_a_server_error, response_schema_conformance]
    settings = hypothesis.settings(
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    # Every route first, alone (the stateful phase reaches only the routes its links join).
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @hypothesis.settings(
            settings,
            max_examples=5,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(headers=headers, timeout=20)
            case.validate_response(response, checks=checks)

        call()

    called: list[str] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            called.append(f"{case.method} {case.path}")
            return {"headers": headers, "timeout": 20}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=checks)

    for attempt in range(3):
        try:
            hypothesis.stateful.run_state_machine_as_test(
                Machine,
                settings=hypothesis.settings(
                    settings,
                    max_examples=60,
                    stateful_step_count=6,
                    derandomize=attempt == 0,  # a retry draws other sequences
                ),
            )
            break
        except hypothesis.errors.FlakyStrategyDefinition:
            # The links draw from the board's answers (jobs, bible entries, takes made on the
            # way): a replay can draw differently. That is hypothesis refusing to shrink, not a
            # finding; a 5xx or a schema mismatch raises its own error and fails at once.
            if attempt == 2:
                raise
            called.clear()
    assert len(called) >= 100, called
    assert len(set(called)) >= 10, sorted(set(called))
