from rnn_helpers.training.progress import Progress


def test_line_shows_count_bar_and_metrics(capsys):
    with Progress(4, "demo") as bar:
        bar.update(loss=1.23456)
        bar.update(loss=0.5, acc="50%")
        line = bar.line()
    assert line.startswith("demo  2/4 [##########..........] loss=0.5  acc=50%")
    printed = capsys.readouterr().out
    assert "demo" in printed and printed.strip().splitlines()[-1].startswith("demo  2/4")


def test_disabled_progress_prints_nothing(capsys):
    with Progress(2, "quiet", enabled=False) as bar:
        bar.update()
    assert capsys.readouterr().out == ""
