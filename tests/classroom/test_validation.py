"""cnnlib.classroom's checks before any query: codes, keys, nicknames, links, run records, polls."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from cnnlib.classroom import CODE_LENGTH, ClassError, format_code, normalize_code
from cnnlib.classroom.board import competition_ranks
from cnnlib.classroom.codes import (
    CODE_ALPHABET,
    hash_key,
    key_matches,
    new_class_code,
    new_student_id,
    new_teacher_key,
)
from cnnlib.classroom.validation import (
    LOOKALIKES,
    MAX_NICKNAME,
    clean_answer,
    clean_link,
    clean_nickname,
    clean_poll,
    clean_record,
    clean_text,
    lookalike_skeleton,
    unique_nickname,
)

# -- codes and keys ------------------------------------------------------------------------------


def test_codes_avoid_look_alikes_and_round_trip_through_what_people_type():
    assert not set("0O1IL") & set(CODE_ALPHABET)
    rng = random.Random(0)
    for _ in range(500):
        code = new_class_code()
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
        typed = format_code(code).lower()
        if rng.random() < 0.5:
            typed = " " + typed.replace("-", " ") + " "
        assert normalize_code(typed) == code


@pytest.mark.parametrize("bad", ["", "   ", "K7M", "K7MQ2RX", "K7M-Q2O", "K7MQ21", None, 123, "x" * 10_000])
def test_a_malformed_code_is_refused_with_the_format(bad):
    with pytest.raises(ClassError, match="class code"):
        normalize_code(bad)


def test_a_code_with_a_look_alike_says_codes_never_use_them():
    with pytest.raises(ClassError, match="never use 0, O, 1, I or L"):
        normalize_code("K7M-Q20")


def test_teacher_keys_are_long_random_and_stored_hashed():
    keys = {new_teacher_key() for _ in range(200)}
    assert len(keys) == 200 and all(len(k) >= 32 for k in keys)
    key = next(iter(keys))
    stored = hash_key(key)
    assert key not in stored and len(stored) == 64
    assert key_matches(key, stored)
    for wrong in ["", None, key[:-1], key + "x", key.upper(), "x" * 10_000, 42]:
        assert not key_matches(wrong, stored)
    assert len({new_student_id() for _ in range(200)}) == 200


# -- text and nicknames --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("Ana", "Ana"),
        ("  Ana   Maria ", "Ana Maria"),
        ("Ana\u202eX", "AnaX"),  # right-to-left override removed
        ("\u200fAna\u200e", "Ana"),  # RTL/LTR marks
        ("A\u200bn\u200da\ufeff", "Ana"),  # zero-width space, joiner, BOM
        ("Ana\x00\x07\x1b", "Ana"),  # control characters
        ("Ana\nMaria\tK", "Ana Maria K"),  # line breaks and tabs become spaces
        ("\u3164Ana\u2800", "Ana"),  # invisible "letters"
        ("Ｆｕｌｌ", "Full"),  # NFKC: full-width letters
        ("Zoë 🚀", "Zoë 🚀"),
        ("O'Brien-Smith_2", "O'Brien-Smith_2"),
        ("علي", "علي"),  # right-to-left script itself is fine
    ],
)
def test_nicknames_are_plain_visible_text(raw, stored):
    assert clean_nickname(raw) == stored


@pytest.mark.parametrize(
    "raw, message",
    [
        ("x" * 10_000, "too long: at most 24 characters"),
        ("x" * (MAX_NICKNAME + 1), "too long"),
        ("<b>Ana</b>", "letters, digits, spaces, emoji"),
        ("<i>alert(1)</i>", "not <"),
        ("[Ana](javascript:x)", "letters, digits"),
        ("", "empty"),
        ("\u202e\u200b\x00", "empty"),
        ("...", "at least one letter"),
        (None, "must be text"),
        (42, "must be text"),
    ],
)
def test_bad_nicknames_are_refused_with_a_message(raw, message):
    with pytest.raises(ClassError, match=message):
        clean_nickname(raw)


TEACHER_LIKE = [
    "Teacher",
    "teacher 2",
    "TEACHER",
    "Тeacher",  # Cyrillic Т
    "Teаcher",  # Cyrillic а
    "Τeacher",  # Greek Τ
    "T e a c h e r",
    "T.e.a.c.h.e.r",
    "the teacher",
    "Mr Teacher",
    "Ana the Teacher",
    "TeacherAna",
    "Teachers",
    "TEÁCHER",
    "ᴛᴇᴀᴄʜᴇʀ",  # Latin small capitals
    "𝐓𝐞𝐚𝐜𝐡𝐞𝐫",  # mathematical bold (NFKC: Teacher)
    "ᎢᎬᎪᏟᎻᎬᎡ",  # Cherokee look-alikes, one script
    "Instructor",
    "Professor X",
    "Prof",
    "Prof. Ana",
    "the prof",
    "Tutor",
    "Admin",
    "Moderator",
    "Lecturer 1",
]


@pytest.mark.parametrize("raw", TEACHER_LIKE)
def test_nicknames_that_pass_for_the_teacher_are_refused(raw):
    with pytest.raises(ClassError, match="could pass for the teacher: pick a name of your own"):
        clean_nickname(raw)


@pytest.mark.parametrize(
    "raw, message",
    [
        ("Аna", "cannot mix Latin and Cyrillic letters"),  # Cyrillic А
        ("Anna Мария", "cannot mix Latin and Cyrillic letters"),
        ("Αna", "cannot mix Latin and Greek letters"),  # Greek Α
        ("Мαрия", "cannot mix Cyrillic and Greek letters"),  # Greek α
        ("Ꭺna", "cannot mix Latin and Cherokee letters"),
        ("Ana̶̷̸", "at most 2 accents or marks on one letter .this one stacks 3"),
        ("Z͓͔͕͑͒a͖lgo", "this one stacks 5"),
        ("निंंंं", "at most 4 accents or marks"),  # Devanagari marks, 5
    ],
)
def test_look_alike_and_zalgo_nicknames_are_refused_with_why(raw, message):
    with pytest.raises(ClassError, match=message):
        clean_nickname(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "Анна",  # Cyrillic
        "陈",
        "Zoë",
        "Zoë",  # decomposed: NFKC makes it Zoë
        "José",
        "Αλέξανδρος",  # Greek
        "Հայկ",  # Armenian
        "ज़िंदगी",  # Hindi: three marks in a row (nukta, vowel sign, anusvara)
        "さくら 桜",  # Japanese: Hiragana and Han
        "Ana 陈",  # Latin with Han
        "Profit",
        "Badminton",
        "Tutorial",
        "Kate Acher",
        "Preacher",
        "Lehrer",
        "Aná̂",  # two accents: fine
        "1️⃣ 🚀",  # keycap emoji: two marks
    ],
)
def test_single_script_and_ordinary_nicknames_are_kept(raw):
    assert clean_nickname(raw)


def test_the_lookalike_skeleton_reads_lookalikes_as_latin():
    assert lookalike_skeleton("Тeаcher") == lookalike_skeleton("ᴛᴇᴀᴄʜᴇʀ") == "teacher"
    assert lookalike_skeleton("José 2!") == "jose"
    assert all(len(v) == 1 and v.isascii() and v.isalpha() for v in LOOKALIKES.values())
    assert all(not k.isascii() for k in LOOKALIKES)


def test_duplicates_are_made_unique_case_insensitively_within_the_cap():
    assert unique_nickname("Ana", []) == "Ana"
    assert unique_nickname("Ana", ["ana"]) == "Ana 2"
    assert unique_nickname("Ana", ["ana", "ana 2"]) == "Ana 3"
    long = "x" * MAX_NICKNAME
    made = unique_nickname(long, [long])
    assert made.endswith(" 2") and len(made) <= MAX_NICKNAME


def test_clean_text_caps_and_may_be_optional():
    assert clean_text(None, "title", 10, required=False) == ""
    assert clean_text(" a\nb ", "title", 10) == "a b"
    with pytest.raises(ClassError, match="at most 10"):
        clean_text("x" * 11, "title", 10)


# -- links, records, polls -----------------------------------------------------------------------


@pytest.mark.parametrize("link", ["/training?lr=0.01&bs=64", "?tab=2", "/kernels", "/shapes?k=3%2C3"])
def test_app_links_are_kept(link):
    assert clean_link(link) == link


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/x",
        "//evil.example",
        "javascript:alert(1)",
        "/a b",
        "/\\evil",
        "training",
        "/x\n",
        "/" + "a" * 2001,
    ],
)
def test_links_outside_the_app_or_unencoded_are_refused(link):
    with pytest.raises(ClassError, match="link"):
        clean_link(link)


GOOD = {
    "accuracy": 0.97,
    "params": 21_840,
    "model": "SimpleCNN",
    "link": "/training?lr=0.01",
    "seconds": 12.5,
}


def test_a_good_record_is_kept_with_numpy_numbers():
    rec = clean_record({**GOOD, "accuracy": np.float32(0.5), "params": np.int64(100)})
    assert rec["accuracy"] == 0.5 and rec["params"] == 100 and type(rec["params"]) is int
    assert clean_record({"accuracy": 1, "params": 1}) == {
        "accuracy": 1.0,
        "params": 1,
        "model": "",
        "link": "",
        "seconds": None,
        "dataset": "",
    }


@pytest.mark.parametrize(
    "change, message",
    [
        ({"accuracy": math.nan}, "NaN"),
        ({"accuracy": np.nan}, "NaN"),
        ({"accuracy": math.inf}, "between 0 and 1"),
        ({"accuracy": 97.0}, "between 0 and 1"),
        ({"accuracy": -0.1}, "between 0 and 1"),
        ({"accuracy": "0.9"}, "must be a number"),
        ({"accuracy": True}, "must be a number"),
        ({"params": 0}, "between 1"),
        ({"params": -5}, "between 1"),
        ({"params": 1.5}, "whole number"),
        ({"params": True}, "whole number"),
        ({"params": 10**12}, "between 1"),
        ({"seconds": math.nan}, "training time"),
        ({"seconds": -1}, "training time"),
        ({"model": "m" * 201}, "too long"),
        ({"link": "https://x.y"}, "inside the app"),
        ({"dataset": "d" * 41}, "too long"),
        ({"owner": "me"}, "unknown fields"),
    ],
)
def test_bad_records_are_refused(change, message):
    with pytest.raises(ClassError, match=message):
        clean_record({**GOOD, **change})


def test_records_need_accuracy_and_params_and_must_be_dicts():
    with pytest.raises(ClassError, match="needs its test accuracy"):
        clean_record({"accuracy": 0.5})
    with pytest.raises(ClassError, match="record"):
        clean_record([0.5, 10])


def test_polls_need_distinct_options_and_an_answer_among_them():
    assert clean_poll(" Size? ", ["26", " 28 "], "26") == ("Size?", ["26", "28"], "26")
    for options, message in [
        (["only"], "2 to 12"),
        ([str(i) for i in range(13)], "2 to 12"),
        (["a", "a"], "different"),
        ("ab", "list"),
        (["a", ""], "empty"),
        (["a", "x" * 81], "too long"),
    ]:
        with pytest.raises(ClassError, match=message):
            clean_poll("Q?", options)
    with pytest.raises(ClassError, match="not one of its options"):
        clean_poll("Q?", ["a", "b"], "c")
    with pytest.raises(ClassError, match="empty"):
        clean_poll("\u200b", ["a", "b"])


def test_answers_must_be_one_of_the_options():
    assert clean_answer(" 26 ", ["26", "28"]) == "26"
    for bad in ["27", "", None, "2" * 10_000, 26]:
        with pytest.raises(ClassError, match="26, 28"):
            clean_answer(bad, ["26", "28"])


def test_competition_ranks_share_ties():
    assert competition_ranks([0.9, 0.8, 0.8, 0.7]) == [1, 2, 2, 4]
    assert competition_ranks([]) == []
