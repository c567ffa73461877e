"""Read stage: encodings, formats and bad input, each with the message a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.errors import ReadError
from etl.input import read

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


# --- every input fault gets one honest line ------------------------------------------------

def test_scan_identity_is_the_path_under_the_root(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/b/one.txt", "a/two.txt"):
        (tmp_path / name).write_text(REPORT, encoding="utf-8")
    found = read.scan([tmp_path / "a", tmp_path / "a" / "two.txt"])
    assert [(s.rel, s.name) for s in found.sources] == [("b/one.txt", "one.txt"), ("two.txt", "two.txt"),
                                                        ("two.txt", "two.txt")]
    assert found.faults == []


def test_a_symlink_loop_is_reported_and_the_rest_found(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "a" / "up").symlink_to("..")
    (tmp_path / "self.txt").symlink_to("self.txt")
    (tmp_path / "dangling.txt").symlink_to("nowhere.txt")
    found = read.scan([tmp_path])
    assert [s.rel for s in found.sources] == ["a/one.txt"]
    assert found.faults == [
        read.Fault(f"{tmp_path}/a/up", "SymlinkLoop", "symbolic link loop: it leads back to a folder it is in"),
        read.Fault(f"{tmp_path}/dangling.txt", "FileNotFoundError",
                   "no such file or folder (a broken symbolic link?)"),
        read.Fault(f"{tmp_path}/self.txt", "SymlinkLoop", "symbolic link loop: too many levels of symbolic links"),
    ]


def test_a_folder_nested_300_deep_is_one_fault(tmp_path):
    """Each level's name is 20 characters: past about 200 levels the path exceeds PATH_MAX (4096)."""
    import os

    (tmp_path / "top.txt").write_text(REPORT, encoding="utf-8")
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        for _ in range(300):  # relative to a folder descriptor: the whole path is never spelled out
            os.mkdir("nested_folder_level_", dir_fd=fd)
            inner = os.open("nested_folder_level_", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    found = read.scan([tmp_path])
    assert [s.rel for s in found.sources] == ["top.txt"]
    assert len(found.faults) == 1
    assert (found.faults[0].kind, found.faults[0].reason) == (
        "OSError", "the path is longer than the system allows (File name too long); move the folder nearer the root")
    assert found.faults[0].shown.startswith(f"{tmp_path}/nested_folder_level_/")


def test_a_pipe_is_not_read(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.txt")
    found = read.scan([tmp_path])
    assert found.sources == []
    assert found.faults == [read.Fault(f"{tmp_path}/pipe.txt", "NotAFile",
                                       "not a regular file (a pipe, socket or device)")]


def test_an_unreadable_folder_is_reported(tmp_path):
    """As root, permissions do not deny: the scan runs as the unprivileged user nobody."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    from etl import config

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run the scan as another user")
    base = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        base.chmod(0o755)
        (base / "open").mkdir()
        (base / "open" / "a.txt").write_text(REPORT, encoding="utf-8")
        (base / "locked").mkdir()
        (base / "locked" / "b.txt").write_text(REPORT, encoding="utf-8")
        (base / "locked").chmod(0)
        script = ("import sys; from pathlib import Path; from etl.input import read; "
                  "s = read.scan([Path(sys.argv[1])]); "
                  "print([x.rel for x in s.sources]); print([(f.shown, f.kind, f.reason) for f in s.faults])")
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                               "-c", script, str(base)], capture_output=True, text=True, cwd=config.PROJECT_ROOT)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "['open/a.txt']",
            str([(f"{base}/locked", "PermissionError", "cannot list the folder (Permission denied)")])]
    finally:
        (base / "locked").chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.parametrize(("name", "shown"), [
    ("plain 河长制.txt", "plain 河长制.txt"),
    ("two\nlines.txt", "two\\nlines.txt"),
    ("tab\there.txt", "tab\\there.txt"),
    (b"r\xff\xfe.txt".decode("utf-8", "surrogateescape"), "r\\xff\\xfe.txt"),
    ("sep\u2028arator.txt", "sep\\u2028arator.txt"),
])
def test_names_are_escaped_onto_one_printable_line(name, shown):
    assert read.escape_name(name) == shown
    shown.encode("utf-8")


def test_utf8_with_a_stray_byte_is_decoded_and_the_bad_bytes_counted(tmp_path):
    data = REPORT.encode("utf-8")
    cut = data.index("河长".encode()) + 3
    path = write(tmp_path, "stray.txt", data[:cut] + b"\xff" + data[cut:])
    doc = read.read_document(path)
    assert doc.encoding == "utf_8"
    assert doc.text == REPORT.replace("河长制工作", "河\ufffd长制工作", 1)
    assert doc.warnings == ("1 byte(s) not valid utf_8 replaced by U+FFFD",)


def test_gbk_is_not_taken_for_utf8_with_stray_bytes(tmp_path):
    doc = read.read_document(write(tmp_path, "gbk.txt", REPORT.encode("gbk")))
    assert (doc.text, doc.warnings) == (REPORT, ())


NAVIGATION = ("<html><head><title>首页</title></head><body><div class='nav'>"
              + "".join(f"<a href='/l{i}'>栏目{i}</a> " for i in range(30)) + "</div><ul>"
              + "".join(f"<li><a href='/n{i}'>关于开展第{i}批河长制工作检查的通知</a> 2023-0{i % 9 + 1}-01</li>"
                        for i in range(20))
              + "</ul><footer>版权所有</footer></body></html>")


def test_a_navigation_page_has_no_article_text(tmp_path):
    path = write(tmp_path, "index.html", NAVIGATION.encode("utf-8"))
    with pytest.raises(ReadError, match=r"no article text \(the page holds only navigation or links\)$"):
        read.read_document(path)


def test_an_article_with_a_list_of_related_links_is_kept(tmp_path):
    links = "".join(f"<li><a href='/r{i}'>相关阅读{i}</a></li>" for i in range(8))
    page = PAGE.replace("</article>", f"</article><ul class='related'>{links}</ul>")
    doc = read.read_document(write(tmp_path, "page.html", page.encode("gbk")))
    assert "淤地坝3座、谷坊26座" in doc.text


def test_a_docx_bomb_is_refused_from_its_declared_sizes(tmp_path):
    import zipfile

    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        with bomb.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(40):
                member.write(b" " * read.MB)
    with pytest.raises(ReadError, match=r"unpacks to 40 MB \(40 MB of XML\), over the limits of 256 MB "
                                        r"\(8 MB of XML\) per .docx; save it as .txt$"):
        read.read_document(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "MAX_HTML_BYTES", 1000)
    path = write(tmp_path, "big.html", PAGE.encode("utf-8") * 2)
    with pytest.raises(ReadError, match=r": 0\.0 MB, over the limit of 0 MB for a \.html file$"):
        read.read_document(path)
