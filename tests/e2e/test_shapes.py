"""Browser: the Shape calculator reads typed settings, shows the output size, and explains bad values."""

from .conftest import assert_no_exception, open_page, screenshot, type_into

MAIN = "[data-testid='stMain']"


def output_shape(pg) -> str:
    box = pg.locator("[data-testid=stMetric]").filter(has_text="Output").first
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def alerts(pg) -> str:
    return "\n".join(pg.locator(f"{MAIN} [data-testid=stAlert]").all_inner_texts())


def test_typed_settings_give_the_output_size_and_bad_values_their_message(server, page):
    """Type size, kernel, stride, padding; read the output; then a non-number and a too-big kernel."""
    open_page(page, server, "shape_calculator")
    assert output_shape(page) == "8 × 14 × 14"  # the Conv2d defaults: 28, k 3, s 2, p 1
    for key, value in (
        ("sc_size_h", "32"),
        ("sc_Conv2d_k_h", "5"),
        ("sc_Conv2d_s_h", "1"),
        ("sc_Conv2d_p_h", "2"),
    ):
        type_into(page, key, value)
    assert output_shape(page) == "8 × 32 × 32"  # floor((32 + 2 x 2 - 5) / 1) + 1 = 32
    assert_no_exception(page)
    screenshot(page, "shapes_result")

    type_into(page, "sc_Conv2d_k_h", "abc")
    settings = page.locator("[data-testid=stColumn]").filter(has=page.locator(".st-key-sc_square")).last
    beside = "\n".join(settings.locator("[data-testid=stAlert]").all_inner_texts())
    assert "kernel size must be a whole number" in beside, beside  # in the settings, under the field's row
    assert "Fix the setting marked in red" in alerts(page)
    assert output_shape(page) == "8 × 32 × 32"  # the last layer that worked stays, marked as such
    assert page.get_by_text("Meanwhile, the last Conv2d that worked").count() == 1
    assert_no_exception(page)

    type_into(page, "sc_Conv2d_k_h", "40")  # wider than the 32 + 2 x 2 padded input
    text = alerts(page)
    assert "The kernel spans 40 pixels but the padded input is only 36 pixels" in text, text
    assert "PyTorch would refuse this layer" in text, text
    box = settings.locator("[data-testid=stAlert]").filter(has_text="The kernel spans 40 pixels").first
    # as wide as the row of fields (the settings' column beside the picture), not squeezed under one
    assert box.bounding_box()["width"] > 0.9 * settings.bounding_box()["width"]
    assert_no_exception(page)
    screenshot(page, "shapes_error")
