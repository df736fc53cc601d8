"""Which piece of a page a line's text goes on from (`ocr_core._line_pieces.lines_before`):
the line above it in its column when the layout's order leaves the column, the piece to its
left when the detector cut one line in two."""

from __future__ import annotations

from ocr_core._line_pieces import Piece, lines_before

ROW = 20  # px between rows; each piece's type is 16 px tall


def piece(x0: int, x1: int, row: int) -> Piece:
    top = 100 + row * ROW
    return Piece(0, True, (float(x0), float(top), float(x1), float(top + 16)), top, top + 16, [])


def test_on_a_page_read_across_two_columns_a_line_goes_on_from_the_line_above_it() -> None:
    # The layout's order went row by row across the gutter at 500-520.
    left = [piece(100, 500, row) for row in range(4)]
    right = [piece(520, 920, row) for row in range(4)]
    across = [p for pair in zip(left, right, strict=True) for p in pair]
    before = lines_before(across)
    assert before[2] == 0  # the left column's second line: after its first, not the right's
    assert before[3] == 1  # the right column's second line: after the right's first


def test_a_line_the_detector_cut_in_two_goes_on_from_its_left_part() -> None:
    # One column; on row 1 the detector cut the line at 300-310, a gap the rows around cross.
    pieces = [piece(100, 900, 0), piece(100, 300, 1), piece(310, 900, 1), piece(100, 900, 2)]
    assert lines_before(pieces) == [None, 0, None, 2]


def test_after_a_line_cut_in_two_the_next_line_goes_on_from_its_right_part() -> None:
    pieces = [piece(100, 300, 0), piece(310, 900, 0), piece(100, 900, 1)]
    assert lines_before(pieces)[2] == 1


def test_a_short_line_goes_on_from_the_last_piece_of_its_row_past_its_own_width() -> None:
    # Row 1 was cut at its wide spaces into three pieces (the line above crosses the cuts);
    # row 2 is a paragraph's short last line, under the first of them only: its text goes
    # on from the row's last piece.
    pieces = [
        piece(100, 900, 0),
        *(piece(x0, x1, 1) for x0, x1 in ((100, 300), (310, 600), (610, 900))),
        piece(100, 250, 2),
    ]
    assert lines_before(pieces)[4] == 3


def test_a_line_below_a_gutter_goes_on_from_its_own_column_not_the_next_one() -> None:
    # Two columns (gutter at 500-520), the layout's order across them; the left column's
    # short line on row 1 goes on from the left piece of row 0, not the right column's.
    pieces = [piece(100, 500, 0), piece(520, 920, 0), piece(100, 250, 1)]
    assert lines_before(pieces)[2] == 0
