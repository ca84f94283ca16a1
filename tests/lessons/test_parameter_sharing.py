"""rnn_helpers.lessons.parameter_sharing: the counts of notebook 01."""
import pytest

from rnn_helpers.lessons import parameter_sharing
from rnn_helpers.training.sequence_model import SequenceModel


def test_rnn_count_is_the_size_of_an_actual_model_for_any_T():
    model = SequenceModel("rnn", input_size=3, hidden_size=5, output_size=2)
    size = sum(p.size for p in model.params.values())
    assert all(parameter_sharing.parameter_counts(3, 5, 2, T)["rnn"] == size for T in (1, 7, 500))


def test_window_count_grows_with_T():
    assert parameter_sharing.parameter_counts(3, 5, 2, 4)["window"] == 12 * 5 + 5 + 5 * 8 + 8
    assert parameter_sharing.parameter_counts(3, 5, 2, 1)["window"] == 3 * 5 + 5 + 5 * 2 + 2


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match="T should be a positive int"):
        parameter_sharing.parameter_counts(3, 5, 2, 0)
