"""How the demo's people write: ids, authors, slots, composed comments and replies, roughening."""

from __future__ import annotations

import random

import text_bank as tb
from sample_model import (
    AZERTY_NEIGHBOURS,
    CARRIER,
    ELONGATE,
    FB_PAGE_ID,
    FB_SLUG,
    SMS_FR,
    Item,
    User,
    strip_accents,
)


class TextMixin:
    # ------------------------------------------------------------------ ids
    def _digits(self, n: int, first: str = "") -> str:
        body = "".join(self.rng.choice("0123456789") for _ in range(n - len(first)))
        return first + body

    def _b64(self, n: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def post_ids(self, platform: str) -> tuple[str, str]:
        """(native id, permalink) of a new post."""
        if platform == "facebook":
            number = self._unique(lambda: self._digits(16, "1"))
            return f"{FB_PAGE_ID}_{number}", f"https://www.facebook.com/{FB_SLUG}/posts/{number}"
        if platform == "instagram":
            media = self._unique(lambda: self._digits(19, "18"))
            shortcode = self._unique(lambda: "D" + self._b64(10))
            return media, f"https://www.instagram.com/p/{shortcode}/"
        video = self._unique(lambda: self._b64(11))
        return video, f"https://www.youtube.com/watch?v={video}"

    def comment_ids(self, post: Item, parent: Item | None) -> tuple[str, str]:
        """(native id, permalink) of a comment on ``post`` (a reply when ``parent`` is a comment)."""
        if post.source == "facebook":
            post_number = post.native_id.split("_", 1)[1]
            number = self._unique(lambda: self._digits(16, self.rng.choice("1234568")))
            if parent is None:
                return f"{post_number}_{number}", f"{post.url}?comment_id={number}"
            parent_number = parent.native_id.split("_", 1)[1]
            return f"{post_number}_{number}", f"{post.url}?comment_id={parent_number}&reply_comment_id={number}"
        if post.source == "instagram":
            number = self._unique(lambda: self._digits(17, "17" + self.rng.choice("89")))
            if parent is None:
                return number, f"{post.url}c/{number}/"
            return number, f"{post.url}c/{parent.native_id}/r/{number}/"
        if parent is None:
            cid = self._unique(lambda: "Ug" + self.rng.choice("wxyz") + self._b64(19) + "4AaABAg")
            return cid, f"{post.url}&lc={cid}"
        rid = self._unique(lambda: f"{parent.native_id}.{self.rng.choice('9AB')}{self._b64(21)}")
        return rid, f"{post.url}&lc={rid}"

    # ------------------------------------------------------------------ people
    def _new_user(self, platform: str, lang: str) -> User:
        rng = self.rng
        if lang == "fr":
            first, last = rng.choice(tb.FIRST_NAMES_FR), rng.choice(tb.LAST_NAMES_FR)
        elif lang == "en":
            first, last = rng.choice(tb.FIRST_NAMES_EN), rng.choice(tb.LAST_NAMES_EN)
        else:
            first, last = rng.choice(tb.FIRST_NAMES_OTHER[lang]), rng.choice(tb.LAST_NAMES_OTHER[lang])
        plain = strip_accents(f"{first}{last}").lower().replace(" ", "").replace("'", "")
        style = rng.random()
        if style < 0.45:
            handle = f"{strip_accents(first).lower()}.{strip_accents(last).lower()}{rng.randint(1, 99) if rng.random() < 0.5 else ''}"
        elif style < 0.75:
            handle = f"{rng.choice(tb.HANDLE_WORDS)}_{strip_accents(first).lower()}{rng.choice(['', str(rng.randint(1, 99)), '_' + rng.choice(tb.HANDLE_WORDS)])}"
        else:
            handle = f"{plain[: rng.randint(4, 9)]}{rng.randint(10, 2009)}"
        handle = handle.replace(" ", "").replace("'", "")
        if platform == "facebook":
            name = f"{first} {last}" if rng.random() < 0.8 else f"{first} {last[0]}."
            author_id = self._unique(lambda: self._digits(rng.choice([16, 17]), rng.choice("123456789")))
        elif platform == "instagram":
            name = handle
            author_id = self._unique(lambda: self._digits(17, "17841" + rng.choice("0123456")))
        else:
            name = "@" + handle if rng.random() < 0.7 else f"{first} {last}"
            author_id = self._unique(lambda: "UC" + self._b64(22))
        return User(platform, author_id, name, handle, lang, rng.random() ** 2)

    def pick_user(self, platform: str, lang: str, fresh_share: float = 0.5) -> User:
        """Rich-get-richer: regulars come back, many people comment once."""
        key = (platform, lang)
        picks = self.picks_by_key[key]
        if not picks or self.rng.random() < fresh_share:
            user = self._new_user(platform, lang)
            self.users_by_key[key].append(user)
        else:
            user = self.rng.choice(picks)
        picks.append(user)
        return user

    def mention(self, platform: str) -> str:
        lang = "fr" if self.rng.random() < 0.8 else "en"
        pool = self.users_by_key[(platform, lang)]
        user = self.rng.choice(pool) if pool and self.rng.random() < 0.4 else self._new_user(platform, lang)
        if platform == "facebook":
            return user.name if self.rng.random() < 0.7 else "@" + user.name.split()[0]
        return "@" + user.handle

    # ------------------------------------------------------------------ text
    def slots(self, platform: str, lang: str, **known: str) -> dict[str, str]:
        rng = self.rng
        products = tb.PRODUCTS_FR if lang == "fr" else tb.PRODUCTS_EN if lang == "en" else tb.PRODUCTS_SHORT
        product, product2 = rng.sample(products, 2)
        city, city2 = rng.sample(tb.CITIES, 2)
        bank = tb.FR if lang != "en" else tb.EN
        nth = (
            rng.choice(["3e", "4e", "5e", "10e", "deuxième", "troisième", "énième"])
            if lang == "fr"
            else rng.choice(["3rd", "4th", "5th", "10th"])
        )
        values = {
            "p": product,
            "p2": product2,
            "c": city,
            "c2": city2,
            "d": str(rng.choice([3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 18, 21])),
            "d2": str(rng.randint(1, 3)),
            "o": rng.choice(["n°", "#", "", "AUR-"]) + self._digits(rng.choice([7, 8]), rng.choice("12345")),
            "n": str(rng.choice([19, 24, 29, 32, 36, 39, 42, 45, 49, 54, 59, 65, 72, 89])),
            "fp": rng.choice(["4,90", "5,90", "6,90", "7,50", "7,90"]),
            "h": str(rng.randint(2, 30)),
            "k": str(rng.randint(2, 7)),
            "t": str(rng.choice([15, 20, 25, 30, 40, 45, 55])),
            "y": str(rng.randint(2, 15)),
            "nth": nth,
            "reason": rng.choice(bank["reason"]),
            "reason2": rng.choice(bank["reason2"]),
            "m": self.mention(platform),
            "m2": self.mention(platform),
            "m3": self.mention(platform),
            "carrier": CARRIER,
            "v": f"4.{rng.randint(2, 9)}.{rng.randint(0, 3)}",
            "url": rng.choice(["bit.ly/", "tinyurl.com/", "cutt.ly/", "gains-faciles.biz/", "promo-top.shop/"])
            + self._b64(7),
            "team": rng.choice(tb.TEAMS_FR if lang != "en" else tb.TEAMS_EN),
            "draw": rng.choice(["24 octobre", "31 octobre", "15 octobre", "10 octobre"]),
            "name": "",
            "tags": "",
        }
        values.update(known)
        return values

    def fill(self, template: str, platform: str, lang: str, **known: str) -> str:
        return template.format_map(self.slots(platform, lang, **known))

    def _maybe(self, p: float, options: list[str]) -> str:
        return self.rng.choice(options) if self.rng.random() < p else ""

    def _join(self, *parts: str) -> str:
        text = " ".join(part.strip() for part in parts if part and part.strip())
        return text[:1].upper() + text[1:] if self.rng.random() < 0.6 else text

    def _decorate(self, text: str, platform: str, mood: str) -> str:
        rng = self.rng
        if mood == "pos" and rng.random() < 0.4:
            text += " " + "".join(rng.choice(tb.EMOJI_POS) for _ in range(rng.randint(1, 3)))
        elif mood == "neg" and rng.random() < 0.25:
            text += " " + "".join(rng.choice(tb.EMOJI_NEG + tb.EMOJI_SAD) for _ in range(rng.randint(1, 3)))
        hashtag_p = 0.3 if platform == "instagram" else 0.08
        if mood in ("pos", "neg") and rng.random() < hashtag_p:
            text += " " + rng.choice(tb.HASHTAGS_POS if mood == "pos" else tb.HASHTAGS_NEG)
        return text

    def compose(self, intent: str, platform: str, lang: str, topic: str | None = None) -> str:
        """The text of a top-level comment of the given intent (before roughening)."""
        rng = self.rng
        if intent == "emoji":
            pool = tb.EMOJI_POS * 3 + tb.EMOJI_NEG + tb.EMOJI_SAD + ["😂", "🤣", "👀", "🙏"]
            return "".join(rng.choice(pool) for _ in range(rng.randint(1, 6)))
        if lang in tb.MINOR:
            bank = tb.MINOR[lang]
            if intent == "complaint":
                topics = bank["complaint"]
                body = rng.choice(topics[topic] if topic in topics else topics[rng.choice(sorted(topics))])
                return self._decorate(self.fill(body, platform, lang), platform, "neg")
            return self._decorate(
                self.fill(rng.choice(bank[intent]), platform, lang), platform, "pos" if intent == "praise" else ""
            )
        bank = tb.FR if lang == "fr" else tb.EN
        fill = lambda t: self.fill(t, platform, lang)  # noqa: E731
        if intent == "praise":
            text = self._join(
                self._maybe(0.45, bank["praise_open"]),
                fill(rng.choice(bank["praise"])),
                self._maybe(0.5, bank["praise_close"]),
            )
            return self._decorate(text, platform, "pos")
        if intent == "question":
            return self._join(
                fill(self._maybe(0.6, bank["question_open"])),
                fill(rng.choice(bank["question"])),
                self._maybe(0.5, bank["question_close"]),
            )
        if intent == "complaint":
            body = fill(rng.choice(bank["complaint"][topic]))
            if rng.random() < 0.2:
                other = rng.choice(sorted(bank["complaint"]))
                body += (" et " if lang == "fr" else " and ") + fill(rng.choice(bank["complaint"][other]))
            text = self._join(
                fill(self._maybe(0.55, bank["complaint_open"])), body, self._maybe(0.55, bank["complaint_close"])
            )
            return self._decorate(text, platform, "neg")
        if intent == "constructive":
            cause = fill(rng.choice(bank["cause"][topic]))
            suggestion = fill(rng.choice(bank["suggestion"][topic]))
            thanks = self._maybe(
                0.35,
                ["Merci d'avance !", "Bonne journée", "Merci de transmettre 🙏"]
                if lang == "fr"
                else ["Thanks!", "Cheers"],
            )
            return self._join(fill(self._maybe(0.6, bank["constructive_open"])), cause + ".", suggestion, thanks)
        if intent == "sarcasm":
            return fill(rng.choice(bank["sarcasm"]))
        if intent == "toxic":
            text = rng.choice(bank["toxic"])
            if rng.random() < 0.6:
                text += ", " + rng.choice(bank["toxic_tail"])
            return text.upper() if rng.random() < 0.25 else self._decorate(text, platform, "neg")
        if intent == "spam":
            return fill(rng.choice(bank["spam"]))
        if intent == "chat":
            return fill(rng.choice(bank["chat"]))
        if intent == "contest":
            return self._decorate(fill(rng.choice(bank["contest"])), platform, "pos")
        if intent == "crisis_complaint":
            body = fill(rng.choice(tb.FR["crisis"]))
            if rng.random() < 0.25:
                body += ". " + fill(rng.choice(tb.FR["crisis"] + tb.FR["complaint"]["customer_service"]))
            text = self._join(
                fill(self._maybe(0.3, tb.FR["complaint_open"])), body, self._maybe(0.6, tb.FR["crisis_close"])
            )
            return text.upper() if rng.random() < 0.08 else text
        if intent == "crisis_constructive":
            opener = self._maybe(0.4, tb.FR["constructive_open"])
            suggestion = fill(rng.choice(tb.FR["crisis_constructive"]))
            # The opener's slot ("depuis {y} ans") is filled without drawing from rng: the month stays
            # the same record for record, only this text is mended.
            return self._join(opener.replace("{y}", str(2 + len(suggestion) % 14)), suggestion)
        if intent == "threat":
            return fill(tb.FR["threat"])
        raise ValueError(f"no text for intent {intent!r}")

    def compose_reply(self, intent: str, platform: str, lang: str, parent: Item) -> str:
        rng = self.rng
        if lang in tb.MINOR:
            return self.fill(rng.choice(tb.MINOR[lang]["praise"] + ["+1", "👍", "❤️"]), platform, lang)
        bank = tb.FR if lang == "fr" else tb.EN
        template = rng.choice(bank[intent])
        if intent == "toxic_user":
            template += " " + self._maybe(0.7, bank["toxic_user_insult"])
        if intent == "agree" and parent.intent.startswith("crisis") and lang == "fr":
            template += " " + self._maybe(0.5, tb.FR["crisis_close"])
        text = self.fill(template, platform, lang).strip()
        if rng.random() < 0.3 and platform != "youtube" and parent.author is not None:
            # Replying people often tag the person they answer.
            text = ("@" + parent.author.handle if platform == "instagram" else parent.author.name) + " " + text
        return text

    def brand_text(self, comment: Item) -> str:
        rng = self.rng
        lang = comment.lang if comment.lang in ("fr", "en") or comment.lang in tb.MINOR else "fr"
        name = comment.author.name.split()[0].lstrip("@") if comment.author else ""
        if comment.source == "instagram" and comment.author:
            name = "@" + comment.author.handle
        if lang in tb.MINOR:
            return self.fill(tb.MINOR[lang]["brand"], comment.source, lang, name=name)
        bank = tb.FR if lang == "fr" else tb.EN
        kind = {
            "question": "brand_question",
            "complaint": "brand_complaint",
            "sarcasm": "brand_complaint",
            "constructive": "brand_constructive",
            "crisis_constructive": "brand_constructive",
            "praise": "brand_praise",
            "contest": "brand_praise",
            "chat": "brand_praise",
            "crisis_complaint": "brand_crisis",
        }.get(comment.intent, "brand_other")
        text = self.fill(rng.choice(bank[kind]), comment.source, lang, name=name)
        signature = self._maybe(0.7, bank["brand_sig"])
        return f"{text} {signature}".strip()


def roughen(text: str, rng: random.Random, lang: str, sloppiness: float, mood: str) -> str:
    """Make a clean sentence look typed on a phone: typos, SMS spelling, elongations, case, punctuation."""
    if lang == "fr" and rng.random() < 0.35 * sloppiness + 0.05:
        for word, short in SMS_FR.items():
            if word in text and rng.random() < 0.5:
                text = text.replace(word, short, 1)
    words = text.split(" ")
    for index, word in enumerate(words):
        core = word.strip(".,!?;:\"'()…")
        if not core.isalpha():
            continue  # leave @mentions, #tags, links, numbers and emoji alone
        lower = core.lower()
        if lower in ELONGATE and rng.random() < 0.15 + 0.4 * sloppiness:
            vowel_at = max((i for i, ch in enumerate(lower) if ch in "aeiouyé"), default=len(lower) - 1)
            stretched = core[: vowel_at + 1] + core[vowel_at] * rng.randint(2, 4) + core[vowel_at + 1 :]
            words[index] = word.replace(core, stretched, 1)
        elif len(core) > 3 and rng.random() < 0.05 * sloppiness + 0.005:
            chars = list(core)
            at = rng.randrange(len(chars) - 1)
            operation = rng.random()
            if operation < 0.35:
                chars[at], chars[at + 1] = chars[at + 1], chars[at]
            elif operation < 0.6:
                del chars[at]
            elif operation < 0.8:
                chars.insert(at, chars[at])
            else:
                chars[at] = rng.choice(AZERTY_NEIGHBOURS.get(chars[at].lower(), chars[at]))
            words[index] = word.replace(core, "".join(chars), 1)
    text = " ".join(words)
    if rng.random() < 0.5 * sloppiness:
        text = strip_accents(text)
    if rng.random() < 0.25 + 0.4 * sloppiness:
        text = text[:1].lower() + text[1:] if rng.random() < 0.5 else text.lower()
    if mood == "neg" and rng.random() < 0.06:
        text = text.upper()
    if text.endswith(".") and rng.random() < 0.4:
        text = text[:-1] + rng.choice(["", "...", " !!", "!!!"])
    if text.endswith("?") and rng.random() < 0.3:
        text = text[:-1].rstrip() + rng.choice(["??", " ??", "???", " ?!"])
    if lang == "fr" and mood == "pos" and rng.random() < 0.04 + 0.08 * sloppiness:
        text += " " + rng.choice(["mdrrr", "mdr", "ptdr", "hihi", "😂", "lol"])
    return text
