"""The terminal side of make report: one live line per notebook."""

from bnnet.report import terminal as builder


def test_progress_is_read_from_tqdm_text():
    chunk = ("\rcoarse search:  65%|######5   | 13/20 [02:30<01:20,  8.0s/run]"
             "\rcoarse search:  70%|#######   | 14/20 [02:41<01:10,  8.05s/run]")
    assert builder.parse_progress(chunk) == ("coarse search", 14, 20, "01:10")
    assert builder.parse_progress("\r3 vs 9 layers: 100%|██████████| 8/8 [00:00<?, ?run/s]") \
        == ("3 vs 9 layers", 8, 8, "?")
    assert builder.parse_progress("UserWarning: something else\n") is None


def test_progress_line_says_where_the_build_is(capsys):
    progress = builder.NotebookProgress(3, 7, "03_lambda_search")
    progress.write("\rcoarse search:  70%|#######   | 14/20 [02:41<01:10,  8.05s/run]")
    line = progress.line()
    assert line.startswith("[3/7] 03_lambda_search  coarse search 14/20 runs  0:0")
    assert line.endswith("elapsed, ~01:10 left")
    progress.write("some library chatter on stderr\n")  # ignored
    assert progress.line() == line or "14/20 runs" in progress.line()
    progress.close("done")
    assert "[3/7] 03_lambda_search  done in 0:0" in capsys.readouterr().err
