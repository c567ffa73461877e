"""Read stage: encodings, formats and bad input, each with the message a user sees."""

from __future__ import annotations

import pytest

from etl import read
from etl.errors import ReadError

REPORT = (
    "关于2023年河长制工作情况的报告\n"
    "今年以来，我县全面落实河长制，设立县级河长12名、乡级河长45名，"
    "建成生态清洁小流域3条，治理水土流失面积26.5平方公里。"
)


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf_8"), ("utf-8-sig", "utf_8"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
     ("utf-16", "utf_16"), ("utf-16-le", "utf_16_le")],
)
def test_text_encodings_decode_to_the_same_text(tmp_path, encoding, expected):
    doc = read.read_document(write(tmp_path, "report.txt", REPORT.encode(encoding)))
    assert doc.text == REPORT
    assert doc.encoding == expected
    assert doc.format == "txt"


def test_short_gbk_text_is_not_mistaken_for_another_encoding(tmp_path):
    text = "淤地坝除险加固"
    doc = read.read_document(write(tmp_path, "short.txt", text.encode("gbk")))
    assert doc.text == text


def test_doc_id_is_a_content_hash(tmp_path):
    a = read.read_document(write(tmp_path, "a.txt", REPORT.encode()))
    b = read.read_document(write(tmp_path, "b.txt", REPORT.encode("gbk")))
    c = read.read_document(write(tmp_path, "c.txt", REPORT.encode()))
    assert a.doc_id == c.doc_id != b.doc_id
    assert len(a.doc_id) == 16 and int(a.doc_id, 16) >= 0


def test_empty_file(tmp_path):
    path = write(tmp_path, "empty.txt", b"  \n")
    with pytest.raises(ReadError, match=f"^{path}: empty file$"):
        read.read_document(path)


def test_binary_file(tmp_path):
    path = write(tmp_path, "image.txt", bytes(range(256)) * 8)
    with pytest.raises(ReadError, match=f"^{path}: binary file, not text$"):
        read.read_document(path)


def test_unsupported_type(tmp_path):
    path = write(tmp_path, "photo.jpg", b"\xff\xd8\xff")
    with pytest.raises(ReadError, match=f"^{path}: unsupported file type .jpg"):
        read.read_document(path)


PAGE = """<!DOCTYPE html><html><head><meta charset="gbk"><title>会同县水土保持工作汇报_政务公开</title>
<meta name="date" content="2023-06-08"></head><body>
<div class="nav"><a href="/">网站首页</a> <a href="/a">政务公开</a> <a href="/b">互动交流</a></div>
<header>当前位置：首页 &gt; 政务公开 &gt; 工作动态</header>
<article><h1>会同县水土保持工作汇报</h1>
<p>近年来，会同县坚持生态优先，全年完成水土流失综合治理面积12.6平方公里。</p>
<p>全县建成淤地坝3座、谷坊26座，实施坡耕地综合治理1.2万亩，森林覆盖率达到78.2%。</p>
<p>县水利局联合县检察院建立“河长+检察长”协作机制，开展联合巡河30余次。</p>
</article>
<footer>版权所有：会同县人民政府 技术支持：某某网络公司 湘ICP备12345678号</footer>
<div class="share">分享到：微信 微博</div></body></html>"""


def test_html_keeps_the_article_and_drops_the_chrome(tmp_path):
    doc = read.read_document(write(tmp_path, "page.html", PAGE.encode("gbk")))
    assert doc.format == "html"
    assert "淤地坝3座、谷坊26座" in doc.text
    assert "“河长+检察长”协作机制" in doc.text
    for chrome in ("网站首页", "版权所有", "分享到", "ICP备"):
        assert chrome not in doc.text
    assert doc.meta["date"] == "2023-06-08"
    assert doc.meta["title"].startswith("会同县水土保持工作汇报")


def test_docx(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("X县林长制工作总结")
    document.add_paragraph("全县设立县级林长15名，聘请专职护林员320名。")
    path = tmp_path / "summary.docx"
    document.save(path)
    doc = read.read_document(path)
    assert doc.text == "X县林长制工作总结\n全县设立县级林长15名，聘请专职护林员320名。"
    assert doc.format == "docx"


def _pdf(path, with_text: bool):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure = plt.figure(figsize=(4, 3))
    if with_text:
        figure.text(0.1, 0.5, "Check dams built: 12")
    else:
        figure.figimage(np.random.default_rng(1).random((60, 80)))
    figure.savefig(path, format="pdf")
    plt.close(figure)


def test_pdf_with_a_text_layer(tmp_path):
    path = tmp_path / "report.pdf"
    _pdf(path, with_text=True)
    assert read.read_document(path).text.strip() == "Check dams built: 12"


def test_scanned_pdf_has_no_text_layer(tmp_path):
    path = tmp_path / "scan.pdf"
    _pdf(path, with_text=False)
    with pytest.raises(ReadError) as info:
        read.read_document(path)
    assert str(info.value) == f"{path}: no text layer (a scanned PDF?); run OCR first, e.g. ocrmypdf"


def test_find_sources_reads_folders_recursively_and_skips_hidden(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for name in ("a/one.txt", "a/b/two.html", ".git/config", "a/.hidden.txt", "z.docx"):
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in read.find_sources([tmp_path])]
    assert found == ["a/b/two.html", "a/one.txt", "z.docx"]
