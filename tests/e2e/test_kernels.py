"""Browser: the Kernels page: a preset changes the feature map, the step-through sum matches it,
and a bad upload is refused with a message while the last good image stays."""

from .conftest import assert_no_exception, choose, open_page, screenshot, type_into, upload, wait_idle

MAP = ".st-key-key_kernels_maps .cchm-panel[data-pixel]"  # the feature map's panel (our canvas element)
SIDEBAR = "[data-testid='stSidebar']"
WEIGHTS = ".st-key-k_view"  # the weights column beside the maps


def feature_map(pg) -> list[list[float]]:
    """The feature map's values as drawn (the panel's values, row by row), once the canvas is drawn."""
    pg.wait_for_selector(f"{MAP}[data-cell] canvas")
    return pg.evaluate(
        f"""() => {{ const p = document.querySelector("{MAP}"); const w = Number(p.dataset.w);
        return Array.from({{length: Number(p.dataset.h)}}, (_, i) => Array.from(p.ccValues.slice(i * w, (i + 1) * w))); }}"""
    )


def drawn_pixel(pg) -> tuple[int, int]:
    """The pixel outlined on the feature map (row, col)."""
    row, col = pg.locator(MAP).get_attribute("data-pixel").split(",")
    return int(row), int(col)


def metric(pg, label: str) -> str:
    """The value of the metric whose label starts with `label`."""
    box = pg.locator("[data-testid=stMetric]").filter(has_text=label).first
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def pick(pg, key: str, value: int) -> int:
    """Type `value` into the number box with key `key` (one rerun); return the value it shows."""
    box = pg.locator(f".st-key-{key} input")
    box.scroll_into_view_if_needed()
    type_into(pg, key, str(value))
    return int(box.input_value())


def test_preset_step_through_and_bad_upload(server, page):
    """Pick a preset, step to a pixel and check its sum, then upload a broken image."""
    open_page(page, server, "kernels")
    sidebar, weights = page.locator(SIDEBAR), page.locator(WEIGHTS)
    sobel = feature_map(page)
    assert weights.get_by_text("Weights add up to 0").count() == 1  # Sobel x, the default
    # The weights box's style (sent with the page's caption) applies: same-width digits, rows lined up.
    box = page.locator(".st-key-k_text textarea")
    assert "mono" in box.evaluate("e => getComputedStyle(e).fontFamily").lower()
    assert box.input_value() == "-1  0  1\n-2  0  2\n-1  0  1"
    assert box.evaluate("e => e.scrollHeight <= e.clientHeight + 1"), "the 3 rows do not fit the box"

    # Type a kernel as a student does (Ctrl+Enter applies): the map changes and the preset says Custom.
    box.click()
    box.press("Control+a")
    box.type("0 0 0\n0 2 0\n0 0 0")
    box.press("Control+Enter")
    wait_idle(page)
    doubled = feature_map(page)
    assert page.locator(".st-key-k_preset input").first.input_value() == "Custom (edited)"
    assert box.input_value() == "0 0 0\n0 2 0\n0 0 0"
    # a typo: a clear message beside the box, the map unchanged, the text kept to fix
    box.click()
    box.press("Control+a")
    box.type("0 0 0\n0 two 0\n0 0 0")
    box.press("Control+Enter")
    wait_idle(page)
    assert (
        weights.locator("[data-testid=stAlert]").filter(has_text="row 2, column 2 holds 'two'").count() == 1
    )
    assert feature_map(page) == doubled and box.input_value() == "0 0 0\n0 two 0\n0 0 0"
    assert_no_exception(page)
    screenshot(page, "kernels_typed_weights")

    # The widest preset (Gaussian 5x5: a row of 29 characters) fits its column unscrolled.
    choose(page, "k_preset", "Gaussian blur 5x5")
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight + 1")

    choose(page, "k_preset", "Box blur")
    blur = feature_map(page)
    assert blur != sobel, "the feature map did not change with the kernel"
    assert weights.get_by_text("Weights add up to 1").count() == 1

    start = (
        int(page.locator(".st-key-k_row input").input_value()),
        int(page.locator(".st-key-k_col input").input_value()),
    )
    # a pixel on the digit's stroke (a blur of it is above 0.3), not the one shown first
    target = next(
        (r, c) for r, line in enumerate(blur) for c, v in enumerate(line) if v > 0.3 and (r, c) != start
    )
    row, col = pick(page, "k_row", target[0]), pick(page, "k_col", target[1])
    assert (row, col) != start, (row, col)
    assert drawn_pixel(page) == (row, col)  # the map outlines that pixel
    by_hand = float(metric(page, "= By hand"))
    assert metric(page, f"PyTorch at ({row}, {col})") == metric(page, "= By hand")
    assert abs(by_hand - blur[row][col]) < 1e-4, (by_hand, blur[row][col])
    assert by_hand != 0  # a pixel on the digit's stroke, so the check means something
    assert_no_exception(page)
    screenshot(page, "kernels_step_through")

    choose(page, "k_source", "Upload your own…")
    upload(page, "k_upload", "digit.png", b"this is text, not a picture", "image/png")
    error = sidebar.locator("[data-testid=stAlert]").filter(has_text="not an image we can read")
    assert error.count() == 1
    assert sidebar.get_by_text("Using the last good image: MNIST digit").count() == 1
    assert feature_map(page) == blur, "the feature map changed after a bad upload"
    assert_no_exception(page)


def test_a_click_on_the_feature_map_picks_the_pixel_to_step_through(server, page):
    """Click a cell of the feature map: the row and column boxes and the step-through follow that pixel."""
    open_page(page, server, "kernels")
    values = feature_map(page)
    page.locator(MAP).scroll_into_view_if_needed()
    # the grid in page pixels: the canvas, less its axes (the panel says where its cells start)
    area = page.evaluate(
        f"""() => {{ const p = document.querySelector("{MAP}"); const r = p.querySelector("canvas").getBoundingClientRect();
        const [l, t] = p.dataset.grid.split(",").map(Number);
        return {{x: r.left + l, y: r.top + t, cs: Number(p.dataset.cell), rows: Number(p.dataset.h),
                 cols: Number(p.dataset.w)}}; }}"""
    )
    target = (area["rows"] // 4, (3 * area["cols"]) // 4)  # well away from the first pixel shown
    x = area["x"] + (target[1] + 0.5) * area["cs"]
    y = area["y"] + (target[0] + 0.5) * area["cs"]
    page.mouse.move(x, y)  # hover: the readout names the cell and its value, 3 decimals
    tip = page.locator(f"{MAP} .cchm-tip")
    assert tip.is_visible()
    value = f"{values[target[0]][target[1]]:.3f}".replace("-0.000", "0.000").replace("-", "\u2212")
    assert tip.inner_text().split("\n") == [f"row {target[0]}, col {target[1]}", f"value {value}"]
    page.mouse.click(x, y)
    wait_idle(page)
    row = int(page.locator(".st-key-k_row input").input_value())
    col = int(page.locator(".st-key-k_col input").input_value())
    assert (row, col) == target
    assert drawn_pixel(page) == (row, col)
    assert metric(page, f"PyTorch at ({row}, {col})") == metric(page, "= By hand")
    assert_no_exception(page)
