"""Satisfaction: the survey responses answered in the month, scored positive, neutral or negative."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from utils.core.lookup import dig, number_or_none
from utils.core.period import Period
from utils.reporting.metrics_input import Ticket, as_dict, as_list
from utils.reporting.metrics_types import Csat, CsatDetails
from utils.services.tickets import parse_timestamp


def csat_share(response: Mapping[str, Any]) -> Fraction | None:
    """The score share p = acquired / total of a satisfaction response; None without a usable score."""
    score = response.get("score")
    if not isinstance(score, dict):
        return None
    acquired, total = score.get("acquired_score"), score.get("total_score")
    if not isinstance(acquired, (int, float)) or not isinstance(total, (int, float)) or isinstance(acquired, bool) or isinstance(total, bool):
        return None
    if total <= 0:
        return None
    return Fraction(acquired) / Fraction(total)


def positive_rate(positive: Any, responses: Any) -> float | None:
    """The positive-rating share, 0 to 1: positive / responses; None without responses (or unreadable counts)."""
    positive, responses = number_or_none(positive), number_or_none(responses)
    return positive / responses if responses and positive is not None else None


def stored_positive_rate(csat: Any) -> float | None:
    """`csat.positive_rate` of a stored metrics JSON; worked out from its counts when an older build did not store it."""
    if isinstance(csat, Mapping) and "positive_rate" in csat:
        return number_or_none(csat["positive_rate"])
    return positive_rate(dig(csat, "positive"), dig(csat, "responses"))


def csat_section(tickets: Iterable[Ticket], period: Period, with_text: bool, warnings: list[str]) -> tuple[Csat, CsatDetails]:
    positive = neutral = negative = unrated = comments = 0
    shares: list[Fraction] = []
    texts: list[str] = []
    for t in tickets:
        response = t.raw.get("csat")
        if not isinstance(response, dict) or not period.contains(parse_timestamp(response.get("created_at"))):
            continue
        share = csat_share(response)
        rating = response.get("overall_rating")
        if share is not None:
            shares.append(share)
            if share >= Fraction(3, 4):
                positive += 1
            elif share <= Fraction(1, 2):
                negative += 1
            else:
                neutral += 1
        elif isinstance(rating, (int, float)) and not isinstance(rating, bool):
            if rating >= 101:
                positive += 1
            elif rating == 100:
                neutral += 1
            else:
                negative += 1
        else:
            unrated += 1
            continue
        for text in csat_comments(response):
            comments += 1
            if with_text:
                texts.append(text)
    if unrated:
        warnings.append(f"{unrated} satisfaction response{'s' if unrated != 1 else ''} without a score or rating {'were' if unrated != 1 else 'was'} not counted")
    responses = positive + neutral + negative
    metrics: Csat = {
        "responses": responses,
        "positive": positive,
        "neutral": neutral,
        "negative": negative,
        "average_pct": float(sum(shares) / len(shares)) if shares else None,
        "positive_rate": positive_rate(positive, responses),
    }
    return metrics, {"csat_comments": comments, "csat_comment_texts": texts}


def csat_comments(response: Mapping[str, Any]) -> list[str]:
    """Free-text answers of a satisfaction response: answers to questions other than the rating question."""
    primary = response.get("primary_question")
    found = []
    for index, item in enumerate(as_list(response.get("questionnaire_responses"))):
        if not isinstance(item, dict):
            continue
        question = as_dict(item.get("question")).get("question_text")
        # The rating question is the primary question; without one, the first question is taken as it.
        if (primary and question == primary) or (not primary and index == 0):
            continue
        for answer in as_list(item.get("answers")):
            text = as_dict(answer).get("answer_text")
            if isinstance(text, str) and text.strip() and text.strip() != response.get("overall_rating_text"):
                found.append(text.strip())
    return found
