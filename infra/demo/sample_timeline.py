"""When things happen in the demo month: posts, comments, the crisis day, threads and brand replies."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import text_bank as tb
from sample_model import (
    AFTERMATH,
    CARRIER,
    CRISIS_DAY,
    CRISIS_PROFILE,
    CRITICAL_INTENTS,
    INTENT_WEIGHTS,
    LANG_MIX,
    MAX_HOUR_WEIGHT,
    MONTH_END,
    MONTH_START,
    POST_ENGAGEMENT,
    STATEMENT_AT,
    TOPIC_WEIGHTS,
    TOXIC_INTENTS,
    Item,
    at_local,
    hour_weight,
    local_time,
    poisson,
)
from sample_texts import roughen


class TimelineMixin:
    # ------------------------------------------------------------------ structure
    def add(self, item: Item) -> Item:
        self.items.append(item)
        if item.parent is not None:
            item.parent.children.append(item)
        return item

    def schedule_posts(self) -> None:
        rng = self.rng
        day = MONTH_START.date()
        type_cycle = ["product", "tutorial", "product", "team", "product", "csr", "tutorial"]
        cycle_index = 0
        while day < MONTH_END.date():
            weekday = day.weekday()
            slots: list[tuple[str, datetime, str]] = []
            if weekday < 5:
                slots.append(("facebook", at_local(day, 9, rng.randint(15, 55)), ""))
                slots.append(("facebook", at_local(day, rng.choice([17, 18]), rng.randint(0, 59)), ""))
                slots.append(("instagram", at_local(day, 12, rng.randint(10, 50)), ""))
                if weekday in (1, 3):
                    slots.append(("instagram", at_local(day, 19, rng.randint(0, 40)), ""))
            else:
                slots.append(("facebook", at_local(day, 11, rng.randint(0, 45)), ""))
                slots.append(("instagram", at_local(day, 18, rng.randint(0, 59)), ""))
            if weekday in (2, 6):
                slots.append(("youtube", at_local(day, 17, rng.randint(0, 30)), "video"))
            for platform, when, forced in slots:
                post_type = forced or self._post_type(day, weekday, platform, type_cycle[cycle_index % len(type_cycle)])
                cycle_index += 1
                self.make_post(platform, when, post_type)
            day += timedelta(days=1)
        # The incident statement and next morning's follow-up.
        self.make_post("facebook", STATEMENT_AT, "statement")
        self.make_post("instagram", STATEMENT_AT + timedelta(minutes=27, seconds=41), "statement")
        self.make_post("facebook", at_local(date(2026, 10, 18), 10, 4), "followup")
        self.make_post("instagram", at_local(date(2026, 10, 18), 10, 31), "followup")

    def _post_type(self, day: date, weekday: int, platform: str, default: str) -> str:
        if day.day in (9, 12) and platform in ("facebook", "instagram"):
            return "sale"
        if day.day == 8 and platform == "facebook":
            return "store"
        if day.day in (30, 31):
            return "halloween"
        if weekday == 4 and platform in ("facebook", "instagram") and self.rng.random() < 0.8:
            return "contest"
        if day.day in (1, 15) and platform == "facebook":
            return "csr"
        return default

    def make_post(self, platform: str, when: datetime, post_type: str) -> Item:
        rng = self.rng
        native_id, url = self.post_ids(platform)
        tags = " ".join(rng.sample(tb.HASHTAGS_POS, rng.randint(1, 4 if platform == "instagram" else 2)))
        if post_type == "statement":
            text = tb.CRISIS_POST.format(carrier=CARRIER)
        elif post_type == "followup":
            text = tb.FOLLOWUP_POST.format(carrier=CARRIER)
        elif platform == "youtube":
            title = self.fill(rng.choice(tb.YOUTUBE_TITLES), platform, "fr")
            body = self.fill(
                rng.choice(tb.POSTS["product"] + tb.POSTS["tutorial"] + tb.POSTS["team"]), platform, "fr", tags=tags
            )
            text = f"{title}\n\n{body}\n\n🛍️ maisonaurore.fr\n📷 Instagram : @maisonaurore"
        else:
            text = self.fill(rng.choice(tb.POSTS[post_type]), platform, "fr", tags=tags)
        reach = {"facebook": 900, "instagram": 2600, "youtube": 420}[platform]
        post = Item(
            platform,
            native_id,
            "post",
            None,
            None,
            None,
            text,
            url,
            when,
            "post",
            "fr",
            likes=int(reach * rng.lognormvariate(0, 0.45) * (2.5 if post_type == "contest" else 1)),
            shares=int(rng.lognormvariate(3, 0.8)) if platform == "facebook" else 0,
            post_type=post_type,
        )
        post.thread = post
        self.posts.append(post)
        return self.add(post)

    def comment_delay(self, start: datetime, fast: bool = False) -> datetime | None:
        """A time after ``start`` following the daily rhythm (rejection sampling on hour weights)."""
        rng = self.rng
        for _ in range(40):
            roll = rng.random()
            if fast:
                hours = rng.expovariate(1 / 0.75)
            elif roll < 0.6:
                hours = rng.expovariate(1 / 1.5)
            elif roll < 0.9:
                hours = rng.expovariate(1 / 8)
            else:
                hours = rng.uniform(0, 72)
            when = start + timedelta(hours=hours, seconds=rng.randint(20, 90))
            if rng.random() < hour_weight(when) / MAX_HOUR_WEIGHT:
                return when if when < MONTH_END else None
        return None

    def choose_intent(self, post: Item, day: date) -> str:
        weights = dict(INTENT_WEIGHTS)
        if post.post_type == "contest":
            weights["contest"] = 1.1
        elif post.post_type in ("tutorial", "video"):
            weights["question"] *= 2
        elif post.post_type == "sale":
            weights["question"] *= 1.5
        elif post.post_type == "followup":
            weights.update(complaint=0.15, constructive=0.05, sarcasm=0.03)
        return self.weighted(weights)

    def choose_topic(self, post: Item, day: date) -> str:
        weights = dict(TOPIC_WEIGHTS)
        factors = {"csr": ("csr", 5), "sale": ("promotions", 3), "store": ("store", 4), "contest": ("promotions", 2)}
        if post.post_type in factors:
            key, factor = factors[post.post_type]
            weights[key] *= factor
        if post.post_type == "sale":
            weights["price"] *= 2
        if date(2026, 10, 13) <= day <= date(2026, 10, 16):
            weights["delivery"] *= 1.8  # parcels from the sale start to run late: the weak signal
        if day >= date(2026, 10, 18) and day <= date(2026, 10, 21):
            weights["delivery"] *= 2.5
        return self.weighted(weights)

    def weighted(self, weights: dict[str, float]) -> str:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def language(self, platform: str) -> str:
        return self.weighted(LANG_MIX[platform])

    def make_comment(self, post: Item, when: datetime, intent: str, lang: str, topic: str | None = None) -> Item:
        rng = self.rng
        if lang in tb.MINOR and intent not in ("praise", "question", "complaint", "chat", "emoji"):
            intent = rng.choice(["praise", "question", "complaint", "chat"])
        if intent in ("complaint", "constructive") and topic is None:
            topic = self.choose_topic(post, when.date())
        if intent == "sarcasm" and topic is None:
            topic = rng.choice(["delivery", "customer_service", "price", "quality", "app_website", "csr"])
        if intent.startswith("crisis"):
            topic = "delivery"
        user = self.pick_user(post.source, lang, fresh_share=0.45 if intent != "contest" else 0.6)
        raw = self.compose(intent, post.source, lang, topic)
        mood = "neg" if intent in CRITICAL_INTENTS | TOXIC_INTENTS else "pos"
        text = roughen(raw, rng, lang, user.sloppiness, mood) if intent not in ("emoji", "spam") else raw
        native_id, url = self.comment_ids(post, None)
        likes_mean = {
            "praise": 3,
            "complaint": 4,
            "constructive": 9,
            "crisis_complaint": 14,
            "crisis_constructive": 40,
            "sarcasm": 8,
            "question": 1.2,
            "contest": 1.5,
        }.get(intent, 0.8)
        likes = int(rng.expovariate(1 / likes_mean)) * (8 if rng.random() < 0.02 else 1)
        comment = Item(
            post.source,
            native_id,
            "comment",
            post,
            post,
            user,
            text,
            url,
            when,
            intent,
            "zxx" if intent == "emoji" else lang,
            topic,
            likes=likes,
        )
        return self.add(comment)

    def make_reply(self, comment: Item, when: datetime, intent: str, lang: str, brand: bool = False) -> Item | None:
        if when >= MONTH_END:
            return None
        rng = self.rng
        post = comment.thread
        assert post is not None
        native_id, url = self.comment_ids(post, comment)
        if brand:
            text, user = self.brand_text(comment), None
            likes = int(rng.expovariate(1 / 1.5))
        else:
            user = self.pick_user(post.source, lang, fresh_share=0.35)
            text = roughen(
                self.compose_reply(intent, post.source, lang, comment),
                rng,
                lang,
                user.sloppiness,
                "neg" if intent in ("agree", "toxic_user") else "pos",
            )
            likes = int(rng.expovariate(1 / (4 if intent == "agree" else 1)))
        reply = Item(
            post.source,
            native_id,
            "reply",
            comment,
            post,
            user,
            text,
            url,
            when,
            "brand_reply" if brand else intent,
            comment.lang if brand else lang,
            comment.topic if intent == "agree" else None,
            likes=likes,
        )
        return self.add(reply)

    def populate_post(self, post: Item) -> None:
        rng = self.rng
        if post.source == "youtube":
            mean = POST_ENGAGEMENT["youtube"]["video"]
        else:
            mean = POST_ENGAGEMENT[post.source][post.post_type]
        if local_time(post.created).weekday() >= 5:
            mean *= 1.2
        count = max(3, int(mean * rng.lognormvariate(0, 0.35)))
        for _ in range(count):
            when = self.comment_delay(post.created)
            if when is None:
                continue
            intent = self.choose_intent(post, when.date())
            lang = self.language(post.source)
            if intent == "contest" and lang not in ("fr", "en"):
                lang = "fr"
            self.make_comment(post, when, intent, lang)

    def crisis(self) -> None:
        """The parcel-loss burst of 2026-10-17 and its aftermath on the next two days."""
        rng = self.rng
        fb_statement, ig_statement = (p for p in self.posts if p.post_type == "statement")
        for hour, expected in CRISIS_PROFILE.items():
            for _ in range(poisson(rng, expected)):
                when = datetime(2026, 10, 17, hour, 0, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 3599))
                if when > STATEMENT_AT + timedelta(minutes=5) and rng.random() < 0.75:
                    post = fb_statement if when < ig_statement.created or rng.random() < 0.7 else ig_statement
                else:
                    post = self.latest_post(when, rng.choice(["facebook"] * 7 + ["instagram"] * 3))
                self.crisis_comment(post, when)
        for day, expected in AFTERMATH.items():
            followups = [p for p in self.posts if p.post_type == "followup"]
            for _ in range(poisson(rng, expected)):
                when = at_local(day, 8, 0) + timedelta(seconds=rng.randint(0, 14 * 3600))
                candidates = [p for p in followups if p.created < when] or [self.latest_post(when, "facebook")]
                self.crisis_comment(rng.choice(candidates), when)
        # The one threat of the month, at the height of the anger.
        self.make_comment(fb_statement, datetime(2026, 10, 17, 18, 47, 3, tzinfo=UTC), "threat", "fr")

    def crisis_comment(self, post: Item, when: datetime) -> None:
        roll = self.rng.random()
        lang = "en" if roll > 0.95 else "fr"
        if lang == "en":
            self.make_comment(post, when, "complaint", "en", "delivery")
        elif roll < 0.72:
            self.make_comment(post, when, "crisis_complaint", "fr")
        elif roll < 0.80:
            self.make_comment(post, when, "crisis_constructive", "fr")
        elif roll < 0.87:
            self.make_comment(post, when, "complaint", "fr", "customer_service")
        elif roll < 0.92:
            self.make_comment(post, when, "sarcasm", "fr", "delivery")
        else:
            self.make_comment(post, when, "toxic", "fr")

    def latest_post(self, when: datetime, platform: str) -> Item:
        candidates = [p for p in self.posts if p.source == platform and p.created < when]
        return max(candidates, key=lambda p: p.created)

    def brand_reply_time(self, comment: Item) -> datetime | None:
        """Minutes to a day later, within the community team's working hours."""
        rng = self.rng
        start = comment.created
        if comment.intent.startswith("crisis") or (start.date() == CRISIS_DAY and comment.critical):
            start = max(start, STATEMENT_AT)
            delay_min = rng.lognormvariate(math.log(150), 0.9)
        else:
            delay_min = rng.lognormvariate(math.log(70), 1.1)
        when = start + timedelta(minutes=max(2.0, delay_min))
        local = local_time(when)
        opens, closes = (10, 19) if local.weekday() >= 5 else (8, 22)
        if not opens <= local.hour < closes:
            next_day = local.date() + timedelta(days=0 if local.hour < opens else 1)
            next_opens = 10 if next_day.weekday() >= 5 else 8
            when = at_local(next_day, next_opens, 0) + timedelta(minutes=rng.uniform(0, 100))
        if when - comment.created > timedelta(hours=36):
            return None
        return when

    def threads(self) -> None:
        """Replies: the community answering itself, and the brand answering part of the comments."""
        rng = self.rng
        brand_p = {
            "question": 0.55,
            "complaint": 0.42,
            "constructive": 0.65,
            "sarcasm": 0.2,
            "praise": 0.12,
            "contest": 0.01,
            "chat": 0.02,
            "toxic": 0.06,
            "emoji": 0.02,
            "crisis_complaint": 0.2,
            "crisis_constructive": 0.5,
            "threat": 0.0,
            "spam": 0.0,
        }
        community = {
            "complaint": (0.25, ["agree"] * 7 + ["defend"] * 3),
            "constructive": (0.2, ["agree"]),
            "crisis_complaint": (0.28, ["agree"] * 9 + ["defend"]),
            "crisis_constructive": (0.3, ["agree"]),
            "question": (0.18, ["community_answer"]),
            "praise": (0.06, ["praise_reply"]),
            "toxic": (0.5, ["calm_down"] * 6 + ["toxic_user"] * 4),
            "sarcasm": (0.2, ["agree"] * 6 + ["defend"] * 4),
            "chat": (0.25, ["praise_reply"]),
            "threat": (1.0, ["calm_down"]),
        }
        for comment in [item for item in self.items if item.kind == "comment"]:
            if comment.intent in community:
                p, choices = community[comment.intent]
                if rng.random() < p:
                    n = 1
                    while n < 6 and rng.random() < 0.45:
                        n += 1
                    when = comment.created
                    for _ in range(n):
                        when = self.comment_delay(when, fast=True)
                        if when is None:
                            break
                        intent = rng.choice(choices)
                        lang = comment.lang if comment.lang in ("fr", "en") else rng.choice(["fr", comment.lang])
                        if lang not in ("fr", "en") and intent != "praise_reply":
                            lang = "fr"
                        self.make_reply(comment, when, intent, lang)
            if rng.random() < brand_p.get(comment.intent, 0.0):
                when = self.brand_reply_time(comment)
                if when is not None:
                    reply = self.make_reply(comment, when, "brand_reply", comment.lang, brand=True)
                    if reply and comment.critical and rng.random() < 0.15:
                        self.follow_up(comment, reply)

    def follow_up(self, comment: Item, brand_reply: Item) -> None:
        """The original commenter answers the brand (settled or still waiting)."""
        rng = self.rng
        when = self.comment_delay(brand_reply.created, fast=True)
        if when is None or comment.author is None or comment.lang not in ("fr", "en"):
            return
        post = comment.thread
        assert post is not None
        settled = rng.random() < 0.6
        if comment.lang == "fr":
            text = rng.choice(
                [
                    "merci, c'est réglé 👍",
                    "merci pour la réponse rapide",
                    "ok merci, j'attends votre MP",
                    "toujours rien reçu en MP...",
                    "on m'a répondu, merci !",
                ]
                if settled
                else [
                    "toujours pas de réponse en MP",
                    "ça fait 2 jours, toujours rien",
                    "c'est ce que vous dites à tout le monde",
                ]
            )
        else:
            text = rng.choice(
                ["thanks, sorted 👍", "thank you for the quick reply"]
                if settled
                else ["still no DM...", "that's what you tell everyone"]
            )
        native_id, url = self.comment_ids(post, comment)
        reply = Item(
            post.source,
            native_id,
            "reply",
            comment,
            post,
            comment.author,
            roughen(text, rng, comment.lang, comment.author.sloppiness, "pos" if settled else "neg"),
            url,
            when,
            "followup_settled" if settled else "agree",
            comment.lang,
            comment.topic,
        )
        self.add(reply)

    # ------------------------------------------------------------------ output
    def run(self) -> list[Item]:
        self.schedule_posts()
        for post in list(self.posts):
            self.populate_post(post)
        self.crisis()
        self.threads()
        order = {"post": 0, "comment": 1, "reply": 2}
        self.items.sort(key=lambda it: (int(it.created.timestamp()), order[it.kind], it.native_id))
        return self.items
