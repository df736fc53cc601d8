"""OCR output is untrusted: what reaches the browser keeps documents' formatting and nothing
that runs, loads or navigates."""

from __future__ import annotations

from console._render import escape_markdown, markdown_to_safe_html, sanitize_html


def test_script_tags_are_removed_with_their_content() -> None:
    html = markdown_to_safe_html("before <script>alert('x')</script> after")
    assert "<script" not in html
    assert "alert" not in html
    assert "before" in html and "after" in html


def test_event_handler_attributes_are_removed() -> None:
    html = sanitize_html('<b onmouseover="steal()">bold</b><img src="x" onerror="steal()">')
    assert "onmouseover" not in html
    assert "onerror" not in html
    assert "steal" not in html
    assert "<b>bold</b>" in html


def test_javascript_links_lose_their_target() -> None:
    html = markdown_to_safe_html(
        '<a href="javascript:alert(1)">a</a> and [b](javascript:alert(2)) and '
        '<a href="JaVaScRiPt:alert(3)">c</a>'
    )
    assert "href" not in html  # the text may remain; no link that runs it does


def test_iframes_and_remote_images_are_removed() -> None:
    html = markdown_to_safe_html(
        '<iframe src="https://evil.example/"></iframe>\n\n![pixel](https://evil.example/t.png)'
    )
    assert "<iframe" not in html
    assert "<img" not in html
    assert "evil.example" not in html


def test_relative_links_are_dropped_so_nothing_points_into_the_console() -> None:
    assert "href" not in sanitize_html('<a href="/_stcore/health">x</a>')


def test_https_links_are_kept_and_cannot_open_the_console_to_the_target() -> None:
    html = sanitize_html('<a href="https://example.org/">x</a>')
    assert 'href="https://example.org/"' in html
    assert "noopener" in html


def test_markdown_tables_become_html_tables() -> None:
    html = markdown_to_safe_html("| item | amount |\n|---|---|\n| rent | 900 |\n")
    assert "<table>" in html
    assert "<th>item</th>" in html
    assert "<td>900</td>" in html


def test_html_tables_from_the_model_are_kept_with_their_spans() -> None:
    html = markdown_to_safe_html(
        '<table><tr><td colspan="2" style="color:red">total</td></tr></table>'
    )
    assert '<td colspan="2">total</td>' in html
    assert "style" not in html


def test_basic_formatting_survives() -> None:
    html = markdown_to_safe_html("# Title\n\n**bold** and *italic*\n\n- one\n- two")
    for tag in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>italic</em>", "<li>one</li>"):
        assert tag in html


def test_output_is_one_line_so_streamlit_cannot_reparse_it_as_markdown() -> None:
    html = markdown_to_safe_html("```\n<b>x</b>\n\n[q](javascript:alert(1))\n```\n\npara")
    assert "\n" not in html
    assert "&lt;b&gt;" in html  # code stays text


def test_text_that_merely_mentions_html_is_shown_as_text() -> None:
    html = markdown_to_safe_html("Use x < y and a > b & c")
    assert "x &lt; y" in html and "a &gt; b" in html and "&amp; c" in html


def test_file_names_are_escaped_for_markdown() -> None:
    assert escape_markdown("[x](javascript:1)*.pdf") == r"\[x\]\(javascript\:1\)\*.pdf"
    assert escape_markdown(":red[alert] <b>") == r"\:red\[alert\] \<b\>"


def test_plain_names_stay_readable_after_escaping() -> None:
    assert escape_markdown("scan_001-final.v2.pdf") == "scan_001-final.v2.pdf"
    assert escape_markdown("_draft_.pdf") == r"\_draft\_.pdf"


def test_text_in_angle_brackets_that_is_no_allowed_tag_is_shown_literally() -> None:
    html = markdown_to_safe_html("Over the $43,456.78 <lazy> #90 dog")
    assert "Over the $43,456.78 &lt;lazy&gt; #90 dog" in html


def test_unknown_closing_tags_and_comments_are_shown_literally() -> None:
    html = markdown_to_safe_html("a </lazy> b <!-- note --> c")
    assert "&lt;/lazy&gt;" in html
    assert "&lt;!-- note --&gt;" in html


def test_unknown_tags_inside_an_html_table_are_shown_literally() -> None:
    html = markdown_to_safe_html("<table><tr><td><name> here</td></tr></table>")
    assert "<td>&lt;name&gt; here</td>" in html


def test_tags_in_code_spans_are_not_escaped_twice() -> None:
    assert "<code>&lt;lazy&gt;</code>" in markdown_to_safe_html("a `<lazy>` b")


def test_dangerous_tags_in_any_case_are_still_removed_with_their_content() -> None:
    html = markdown_to_safe_html("x <STYLE>p{}</STYLE> <Script>alert(1)</Script> y")
    assert "<style" not in html.lower() and "<script" not in html.lower()
    assert "p{}" not in html and "alert" not in html
    assert "p{}" not in html and "alert" not in html


def test_text_after_an_unclosed_style_tag_is_shown_with_a_notice() -> None:
    html = markdown_to_safe_html("Total due: 100 <style> hidden")
    assert "Total due: 100 &lt;style&gt; hidden" in html
    assert "unclosed &lt;style&gt; tag would have hidden the text after it" in html
    assert "<style" not in html


def test_text_after_an_unclosed_script_or_iframe_block_is_shown() -> None:
    for tag in ("script", "iframe", "SCRIPT"):
        html = markdown_to_safe_html(f"Invoice 42\n\n<{tag} src=x>\n\nPay 900 EUR to IBAN X")
        assert "Pay 900 EUR to IBAN X" in html, tag
        assert f"<{tag}" not in html
        assert "Note: an unclosed" in html


def test_a_closed_dangerous_element_is_removed_and_the_reader_is_told() -> None:
    html = markdown_to_safe_html("Total <style>p{}</style> due <script>x()</script> 100")
    assert "p{}" not in html and "x()" not in html
    assert "2 elements (&lt;style&gt;, &lt;script&gt;) removed with their content" in html
    assert "Total" in html and "100" in html


def test_plain_output_has_no_notice() -> None:
    assert "ocr-notice" not in markdown_to_safe_html("Total due: 100 <lazy> EUR")


def test_single_line_breaks_of_ocr_output_are_kept() -> None:
    html = markdown_to_safe_html("10 Main Street\nSpringfield\n\nDear Sir,")
    assert "10 Main Street<br>" in html
    assert "<p>Dear Sir,</p>" in html
