"""Which piece of a page a line's text goes on from (`ocr_core._line_pieces.lines_before`):
the line above it in its column when the layout's order leaves the column, the piece to its
left when the detector cut one line in two, and the last piece of the row above before a
column gutter of the page's ink."""

from __future__ import annotations

from ocr_core._line_pieces import Piece, lines_before
from ocr_core.server._gutters import Gutter

ROW = 20  # px between rows; each piece's type is 16 px tall
# The page's ink between two columns at 500-520, from its top to its foot.
GUTTER = Gutter(500, 520, 0, 2000)


def piece(x0: int, x1: int, row: int) -> Piece:
    top = 100 + row * ROW
    return Piece(0, True, (float(x0), float(top), float(x1), float(top + 16)), top, top + 16, [])


def no_gutters() -> list[Gutter]:
    return []


def one_gutter() -> list[Gutter]:
    return [GUTTER]


def test_on_a_page_read_across_two_columns_a_line_goes_on_from_the_line_above_it() -> None:
    # The layout's order went row by row across the gutter.
    left = [piece(100, 500, row) for row in range(4)]
    right = [piece(520, 920, row) for row in range(4)]
    across = [p for pair in zip(left, right, strict=True) for p in pair]
    before = lines_before(across, one_gutter)
    assert before[2] == 0  # the left column's second line: after its first, not the right's
    assert before[3] == 1  # the right column's second line: after the right's first


def test_a_line_the_detector_cut_in_two_goes_on_from_its_left_part() -> None:
    # One column; on row 1 the detector cut the line at 300-310: the page has no gutter.
    pieces = [piece(100, 900, 0), piece(100, 300, 1), piece(310, 900, 1), piece(100, 900, 2)]
    assert lines_before(pieces, no_gutters) == [None, 0, None, 2]


def test_after_a_line_cut_in_two_the_next_line_goes_on_from_its_right_part() -> None:
    pieces = [piece(100, 300, 0), piece(310, 900, 0), piece(100, 900, 1)]
    assert lines_before(pieces, no_gutters)[2] == 1


def test_a_short_line_goes_on_from_the_last_piece_of_its_row_past_its_own_width() -> None:
    # Row 1 was cut at its wide spaces into three pieces; row 2 is a paragraph's short last
    # line, under the first of them only: its text goes on from the row's last piece.
    pieces = [
        piece(100, 900, 0),
        *(piece(x0, x1, 1) for x0, x1 in ((100, 300), (310, 600), (610, 900))),
        piece(100, 250, 2),
    ]
    assert lines_before(pieces, no_gutters)[4] == 3


def test_a_line_below_a_gutter_goes_on_from_its_own_column_not_the_next_one() -> None:
    # The left column's short line on row 1 goes on from the left piece of row 0, not the
    # right column's beside it.
    pieces = [piece(100, 500, 0), piece(520, 920, 0), piece(100, 250, 1)]
    assert lines_before(pieces, one_gutter)[2] == 0


def test_a_date_set_across_the_gutter_does_not_join_the_columns_below_it() -> None:
    # A centred date across the gutter (row 0), then a heading on the left and the right
    # column's first line beside it (row 1): the left column's next line (row 2) goes on
    # from the heading, not from the right column.
    pieces = [piece(300, 700, 0), piece(100, 220, 1), piece(520, 920, 1), piece(100, 500, 2)]
    assert lines_before(pieces, one_gutter)[3] == 1


def test_the_page_gutters_are_not_looked_for_when_no_two_pieces_share_a_row() -> None:
    asked: list[bool] = []

    def gutters() -> list[Gutter]:
        asked.append(True)
        return []

    lines_before([piece(100, 900, row) for row in range(5)], gutters)
    assert not asked
