"""Customer management (seed 001) over SQL: every rule, on SQLite, MariaDB and PostgreSQL."""

import functools
import threading

import pytest
from sqlalchemy import func, select

from salesmcp.errors import Conflict, InvalidInput, NotFound
from salesmcp.services.customers import (
    MAX_PAGE,
    add_customer,
    get_customer,
    list_customers,
    set_status,
    update_customer,
)
from salesmcp.store.schema import customers

DEMO_CUSTIDS = [f"{n:03d}" for n in range(11, 21)]
THREAD_TIMEOUT = 60.0


def customer_count(store) -> int:
    with store.reading() as connection:
        return connection.execute(select(func.count()).select_from(customers)).scalar_one()


def run_together(*calls, timeout=THREAD_TIMEOUT):
    """Run each call in its own thread, released at the same moment; returns their results in order."""
    barrier = threading.Barrier(len(calls), timeout=timeout)
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), f"a thread still runs after {timeout}s"
    if errors:
        raise errors[0]
    return results


# -- get -------------------------------------------------------------------------------------------


def test_get_customer_returns_every_field_of_a_demo_customer(sql_store):
    customer = get_customer(sql_store, "011")
    assert (customer.custid, customer.name, customer.city, customer.country) == (
        "011",
        "Annie",
        "Eindhoven",
        "Netherlands",
    )
    assert (customer.email, customer.phone, customer.status) == ("annie@example.com", "+31 40 555 0111", "active")
    assert customer.created_at.tzinfo is not None
    assert customer.updated_at >= customer.created_at


def test_get_customer_ignores_spaces_around_the_custid(sql_store):
    assert get_customer(sql_store, " 012 ").name == "Bert"


def test_an_unknown_custid_is_not_found_naming_cust_id(sql_store):
    with pytest.raises(NotFound) as caught:
        get_customer(sql_store, "999")
    assert caught.value.field == "cust_id"
    assert "999" in caught.value.message


@pytest.mark.parametrize("custid", ["", "   ", None])
def test_an_empty_custid_is_invalid_input_naming_cust_id(sql_store, custid):
    with pytest.raises(InvalidInput) as caught:
        get_customer(sql_store, custid)
    assert caught.value.field == "cust_id"


# -- list ------------------------------------------------------------------------------------------


def test_list_customers_without_filters_returns_all_demo_customers_in_custid_order(sql_store):
    page = list_customers(sql_store)
    assert [c.custid for c in page.items] == DEMO_CUSTIDS
    assert (page.total, page.truncated, page.offset) == (10, False, 0)


def test_status_filter_separates_active_from_disabled_customers(sql_store):
    set_status(sql_store, "013", "disabled")
    set_status(sql_store, "017", "disabled")
    disabled = list_customers(sql_store, status="disabled")
    active = list_customers(sql_store, status="active")
    assert [c.custid for c in disabled.items] == ["013", "017"]
    assert disabled.total == 2
    assert [c.custid for c in active.items] == [c for c in DEMO_CUSTIDS if c not in ("013", "017")]
    assert active.total == 8


@pytest.mark.parametrize("city", ["Eindhoven", "eindhoven", "  EINDHOVEN  ", "eInDhOvEn"])
def test_city_filter_ignores_case_and_surrounding_spaces(sql_store, city):
    page = list_customers(sql_store, city=city)
    assert [c.custid for c in page.items] == ["011", "012", "016"]
    assert page.total == 3


def test_city_filter_combines_with_the_status_filter(sql_store):
    set_status(sql_store, "012", "disabled")
    assert [c.custid for c in list_customers(sql_store, status="active", city="eindhoven").items] == [
        "011",
        "016",
    ]


def test_a_city_without_customers_gives_an_empty_page(sql_store):
    page = list_customers(sql_store, city="Maastricht")
    assert (page.items, page.total, page.truncated) == ([], 0, False)


@pytest.mark.parametrize(
    ("stored", "asked"),
    [
        pytest.param("Örebro", "Örebro", id="exact-O-umlaut"),
        pytest.param("Örebro", "örebro", id="lower-O-umlaut"),
        pytest.param("Évry", "ÉVRY", id="upper-E-acute"),
        pytest.param("Gießen", "Gießen", id="exact-sharp-s"),
    ],
)
def test_city_filter_finds_cities_spelled_with_non_ascii_letters(sql_store, stored, asked):
    added = add_customer(sql_store, {"name": "Traveller", "city": stored})
    assert [c.custid for c in list_customers(sql_store, city=asked).items] == [added.custid]


def test_limit_and_offset_walk_through_pages_in_custid_order(sql_store):
    pages = [list_customers(sql_store, limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [[c.custid for c in page.items] for page in pages] == [
        DEMO_CUSTIDS[0:3],
        DEMO_CUSTIDS[3:6],
        DEMO_CUSTIDS[6:9],
        DEMO_CUSTIDS[9:],
    ]
    assert [page.total for page in pages] == [10, 10, 10, 10]
    assert [page.truncated for page in pages] == [True, True, True, False]
    assert [(page.limit, page.offset) for page in pages] == [(3, 0), (3, 3), (3, 6), (3, 9)]


def test_a_page_that_ends_exactly_at_the_last_customer_is_not_truncated(sql_store):
    page = list_customers(sql_store, limit=10)
    assert (len(page.items), page.truncated) == (10, False)


def test_an_offset_past_the_end_gives_an_empty_page_with_the_total(sql_store):
    page = list_customers(sql_store, limit=5, offset=50)
    assert (page.items, page.total, page.truncated) == ([], 10, False)


def test_total_and_truncated_count_only_customers_matching_the_filters(sql_store):
    page = list_customers(sql_store, city="eindhoven", limit=2)
    assert [c.custid for c in page.items] == ["011", "012"]
    assert (page.total, page.truncated) == (3, True)


def test_limit_and_offset_may_be_given_as_digit_strings(sql_store):
    page = list_customers(sql_store, limit="2", offset=" 4 ")
    assert [c.custid for c in page.items] == ["015", "016"]


def test_the_largest_page_is_allowed(sql_store):
    assert list_customers(sql_store, limit=MAX_PAGE).limit == MAX_PAGE


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"limit": MAX_PAGE + 1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": -3}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "ten"}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": None}, "limit"),
        ({"offset": "x"}, "offset"),
        ({"offset": [1]}, "offset"),
        ({"status": "closed"}, "status"),
        ({"status": "ACTIVE"}, "status"),
        ({"city": 42}, "city"),
        ({"limit": "--5"}, "limit"),
        ({"offset": "²"}, "offset"),
    ],
    ids=lambda value: ",".join(f"{k}={v!r}" for k, v in value.items()) if isinstance(value, dict) else None,
)
def test_bad_list_parameters_are_invalid_input_naming_the_parameter(sql_store, arguments, field):
    with pytest.raises(InvalidInput) as caught:
        list_customers(sql_store, **arguments)
    assert caught.value.field == field


# -- add -------------------------------------------------------------------------------------------


def test_a_new_customer_is_active_and_can_be_read_back(sql_store):
    added = add_customer(
        sql_store,
        {"name": "Kees", "email": "kees@example.com", "phone": "+31 40 555 0199", "city": "Eindhoven",
         "country": "Netherlands"},
    )  # fmt: skip
    assert added.status == "active"
    assert (added.name, added.email, added.phone, added.city, added.country) == (
        "Kees",
        "kees@example.com",
        "+31 40 555 0199",
        "Eindhoven",
        "Netherlands",
    )
    assert added.updated_at >= added.created_at
    assert get_customer(sql_store, added.custid) == added
    assert customer_count(sql_store) == 11


def test_a_customer_needs_only_a_name(sql_store):
    added = add_customer(sql_store, {"name": "Lotte"})
    assert (added.name, added.email, added.phone, added.city) == ("Lotte", None, None, None)


def test_an_empty_email_counts_as_no_email(sql_store):
    assert add_customer(sql_store, {"name": "Lotte", "email": "  "}).email is None


@pytest.mark.parametrize("data", [{}, {"name": ""}, {"name": "   "}, {"email": "x@example.com"}])
def test_a_customer_without_a_name_is_invalid_input_naming_name(sql_store, data):
    with pytest.raises(InvalidInput) as caught:
        add_customer(sql_store, data)
    assert caught.value.field == "name"
    assert customer_count(sql_store) == 10


@pytest.mark.parametrize(
    ("field", "value"), [("name", "x" * 201), ("name", "x" * 199 + " " * 5), ("city", " " * 50 + "y" * 60)]
)
def test_a_value_longer_than_its_field_allows_as_sent_is_invalid_input_even_if_spaces_make_it_long(
    sql_store, field, value
):
    with pytest.raises(InvalidInput) as caught:
        add_customer(sql_store, {"name": "Annie", field: value})
    assert caught.value.field == field
    assert "at most" in caught.value.message
    assert customer_count(sql_store) == 10


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "two@@example.com"])
def test_an_invalid_email_is_invalid_input_naming_email(sql_store, email):
    with pytest.raises(InvalidInput) as caught:
        add_customer(sql_store, {"name": "Mia", "email": email})
    assert caught.value.field == "email"


def test_a_new_email_is_stored_in_lower_case(sql_store):
    assert add_customer(sql_store, {"name": "Mia", "email": "Mia.Jansen@Example.COM"}).email == "mia.jansen@example.com"


@pytest.mark.parametrize("email", ["annie@example.com", "ANNIE@example.com", "Annie@Example.Com"])
def test_an_email_already_in_use_in_any_case_is_a_conflict_and_adds_nothing(sql_store, email):
    with pytest.raises(Conflict) as caught:
        add_customer(sql_store, {"name": "Other Annie", "email": email})
    assert caught.value.field == "email"
    assert customer_count(sql_store) == 10
    assert list_customers(sql_store, limit=MAX_PAGE).items[-1].custid == "020"


@pytest.mark.parametrize("field", ["nickname", "status", "created_at", "id"])
def test_an_unknown_field_when_adding_is_invalid_input_naming_it(sql_store, field):
    with pytest.raises(InvalidInput) as caught:
        add_customer(sql_store, {"name": "Noor", field: "x"})
    assert caught.value.field == field
    assert customer_count(sql_store) == 10


@pytest.mark.parametrize("phone", ["call me", "12", "+31 40 555 0111 ext. 5", "+" + "1" * 60])
def test_a_bad_phone_is_invalid_input_naming_phone(sql_store, phone):
    with pytest.raises(InvalidInput) as caught:
        add_customer(sql_store, {"name": "Noor", "phone": phone})
    assert caught.value.field == "phone"


def test_consecutive_adds_get_distinct_new_custids(sql_store):
    custids = [add_customer(sql_store, {"name": f"Customer {i}"}).custid for i in range(5)]
    assert len(set(custids)) == 5
    assert not set(custids) & set(DEMO_CUSTIDS)
    assert [get_customer(sql_store, custid).name for custid in custids] == [f"Customer {i}" for i in range(5)]


def test_an_assigned_custid_never_equals_one_already_taken(sql_store):
    first = add_customer(sql_store, {"name": "First"}).custid
    # Ids are handed out in sequence, so the row after the next gets id ``first + 2``; taking the
    # custid that id would be turned into makes the next assignment collide unless it checks.
    taken = f"{int(first) + 2:03d}"
    assert add_customer(sql_store, {"name": "Squatter", "custid": taken}).custid == taken
    assigned = add_customer(sql_store, {"name": "Third"}).custid
    assert assigned not in {*DEMO_CUSTIDS, first, taken}
    assert get_customer(sql_store, taken).name == "Squatter"
    assert get_customer(sql_store, assigned).name == "Third"


def test_a_given_custid_is_used_as_is(sql_store):
    added = add_customer(sql_store, {"name": "Olga", "custid": "VIP_olga-1"})
    assert added.custid == "VIP_olga-1"
    assert get_customer(sql_store, "VIP_olga-1").name == "Olga"


@pytest.mark.parametrize("custid", ["011", "020"])
def test_a_given_custid_that_exists_is_a_conflict_and_changes_nothing(sql_store, custid):
    before = get_customer(sql_store, custid)
    with pytest.raises(Conflict) as caught:
        add_customer(sql_store, {"name": "Impostor", "custid": custid})
    assert caught.value.field == "custid"
    assert get_customer(sql_store, custid) == before
    assert customer_count(sql_store) == 10


@pytest.mark.parametrize("custid", ["has space", "semi;colon", "quote'", "slash/", "x" * 33, "ünï"])
def test_a_given_custid_with_bad_characters_is_invalid_input_naming_custid(sql_store, custid):
    with pytest.raises(InvalidInput) as caught:
        add_customer(sql_store, {"name": "Piet", "custid": custid})
    assert caught.value.field == "custid"
    assert customer_count(sql_store) == 10


# -- update ----------------------------------------------------------------------------------------


def test_update_changes_only_the_given_fields(sql_store):
    before = get_customer(sql_store, "014")
    after = update_customer(sql_store, "014", {"phone": "+31 6 1234 5678", "city": "Breda"})
    assert (after.phone, after.city) == ("+31 6 1234 5678", "Breda")
    unchanged = ("custid", "name", "email", "country", "status", "created_at")
    assert {f: getattr(after, f) for f in unchanged} == {f: getattr(before, f) for f in unchanged}
    assert get_customer(sql_store, "014") == after


def test_update_moves_updated_at_forward_and_keeps_created_at(sql_store):
    before = get_customer(sql_store, "015")
    after = update_customer(sql_store, "015", {"name": "Erik"})
    assert after.created_at == before.created_at
    assert after.updated_at >= before.updated_at
    assert after.updated_at >= after.created_at


def test_update_stores_a_new_email_in_lower_case(sql_store):
    assert update_customer(sql_store, "016", {"email": "Fien.New@Example.com"}).email == "fien.new@example.com"


def test_a_customer_may_keep_its_own_email_in_another_case(sql_store):
    assert update_customer(sql_store, "011", {"email": "ANNIE@EXAMPLE.COM"}).email == "annie@example.com"


def test_update_with_none_clears_an_optional_field(sql_store):
    after = update_customer(sql_store, "017", {"phone": None})
    assert after.phone is None
    assert after.email == "gijs@example.com"


def test_the_name_cannot_be_removed(sql_store):
    with pytest.raises(InvalidInput) as caught:
        update_customer(sql_store, "017", {"name": None})
    assert caught.value.field == "name"
    assert get_customer(sql_store, "017").name == "Gijs"


@pytest.mark.parametrize("field", ["nickname", "custid", "status", "created_at"])
def test_an_unknown_field_when_updating_is_invalid_input_naming_it(sql_store, field):
    before = get_customer(sql_store, "018")
    with pytest.raises(InvalidInput) as caught:
        update_customer(sql_store, "018", {"city": "Leiden", field: "x"})
    assert caught.value.field == field
    assert get_customer(sql_store, "018") == before


def test_an_update_without_fields_is_invalid_input(sql_store):
    with pytest.raises(InvalidInput) as caught:
        update_customer(sql_store, "018", {})
    assert caught.value.field == "changes"


def test_updating_an_unknown_customer_is_not_found(sql_store):
    with pytest.raises(NotFound) as caught:
        update_customer(sql_store, "999", {"city": "Leiden"})
    assert caught.value.field == "cust_id"
    assert customer_count(sql_store) == 10


@pytest.mark.parametrize(("field", "value"), [("phone", "call me"), ("email", "not-an-email")])
def test_an_update_with_an_invalid_value_is_invalid_input_and_changes_nothing(sql_store, field, value):
    before = get_customer(sql_store, "019")
    with pytest.raises(InvalidInput) as caught:
        update_customer(sql_store, "019", {field: value})
    assert caught.value.field == field
    assert get_customer(sql_store, "019") == before


@pytest.mark.parametrize("email", ["bert@example.com", "BERT@Example.com"])
def test_taking_another_customers_email_is_a_conflict_and_leaves_the_row_as_it_was(sql_store, email):
    before = get_customer(sql_store, "011")
    with pytest.raises(Conflict) as caught:
        update_customer(sql_store, "011", {"email": email, "city": "Helmond"})
    assert caught.value.field == "email"
    assert get_customer(sql_store, "011") == before


# -- disable / activate ----------------------------------------------------------------------------


def test_disabling_a_customer_changes_its_status(sql_store):
    result = set_status(sql_store, "012", "disabled")
    assert (result.changed, result.customer.status) == (True, "disabled")
    assert "already" not in result.message
    assert get_customer(sql_store, "012").status == "disabled"


def test_disabling_twice_is_no_error_and_says_already(sql_store):
    set_status(sql_store, "012", "disabled")
    again = set_status(sql_store, "012", "disabled")
    assert (again.changed, again.customer.status) == (False, "disabled")
    assert "already" in again.message


def test_activating_a_disabled_customer_makes_it_active_again(sql_store):
    set_status(sql_store, "013", "disabled")
    result = set_status(sql_store, "013", "active")
    assert (result.changed, result.customer.status) == (True, "active")
    assert get_customer(sql_store, "013").status == "active"


def test_activating_an_active_customer_is_no_error_and_says_already(sql_store):
    before = get_customer(sql_store, "013")
    result = set_status(sql_store, "013", "active")
    assert (result.changed, result.customer.status) == (False, "active")
    assert "already" in result.message
    assert get_customer(sql_store, "013") == before


@pytest.mark.parametrize("status", ["disabled", "active"])
def test_changing_the_status_of_an_unknown_customer_is_not_found(sql_store, status):
    with pytest.raises(NotFound) as caught:
        set_status(sql_store, "999", status)
    assert caught.value.field == "cust_id"


def test_changing_the_status_keeps_the_other_fields(sql_store):
    before = get_customer(sql_store, "020")
    after = set_status(sql_store, "020", "disabled").customer
    assert after.model_dump(exclude={"status", "updated_at"}) == before.model_dump(exclude={"status", "updated_at"})


# -- concurrency -----------------------------------------------------------------------------------


def test_concurrent_updates_of_different_fields_both_survive(sql_store):
    for round_ in range(20):
        phone, city = f"+31 6 5555 {round_:04d}", f"Town {round_}"
        run_together(
            lambda phone=phone: update_customer(sql_store, "013", {"phone": phone}),
            lambda city=city: update_customer(sql_store, "013", {"city": city}),
        )
        customer = get_customer(sql_store, "013")
        assert (customer.phone, customer.city) == (phone, city), f"round {round_}"
    assert (customer.name, customer.email) == ("Carla", "carla@example.com")


def test_concurrent_adds_all_get_distinct_custids(sql_store):
    threads, per_thread = 4, 5

    def add_several(worker):
        return [add_customer(sql_store, {"name": f"Worker {worker} #{i}"}).custid for i in range(per_thread)]

    results = run_together(*(lambda worker=worker: add_several(worker) for worker in range(threads)))
    custids = [custid for batch in results for custid in batch]
    assert len(set(custids)) == threads * per_thread
    assert not set(custids) & set(DEMO_CUSTIDS)
    assert customer_count(sql_store) == 10 + threads * per_thread
    assert {get_customer(sql_store, custid).name for custid in custids} == {
        f"Worker {w} #{i}" for w in range(threads) for i in range(per_thread)
    }


def test_when_two_adds_race_for_one_email_one_wins_and_the_other_is_a_conflict_naming_email(sql_store):
    for round_ in range(20):
        email = f"race{round_}@example.com"
        add = functools.partial(_add_or_conflict, sql_store, {"name": "Racer", "email": email})
        outcomes = run_together(add, add)
        assert sorted(outcome == "added" for outcome in outcomes) == [False, True], f"round {round_}"
        assert [o.field for o in outcomes if isinstance(o, Conflict)] == ["email"], f"round {round_}"
    assert customer_count(sql_store) == 30


def _add_or_conflict(store, data):
    try:
        add_customer(store, data)
    except Conflict as exc:
        return exc
    return "added"


def test_custids_are_exact_identifiers_on_every_database(sql_store):
    added = add_customer(sql_store, {"name": "Lower", "custid": "abc"})
    upper = add_customer(sql_store, {"name": "Upper", "custid": "ABC"})
    assert (added.custid, upper.custid) == ("abc", "ABC")
    assert get_customer(sql_store, "ABC").name == "Upper"
