"""Preprocessing: missing values, scalers fitted on train only, one-hot, splits."""

import numpy as np
import pytest

from ippo.preprocessing import (
    MinMaxScaler,
    MissingFiller,
    Standardizer,
    fill_missing,
    min_max_scale,
    one_hot,
    scaler_from_dict,
    standardize,
    train_test_split,
)

NAN = np.nan
X = np.array([[1.0, NAN, 3.0], [4.0, 5.0, NAN], [7.0, 8.0, 9.0], [10.0, 11.0, 12.0]],
             dtype=np.float32)


def test_fill_missing_strategies():
    np.testing.assert_array_equal(fill_missing(X, "zero")[0], [1, 0, 3])
    m = fill_missing(X, "mean")
    assert m[0, 1] == pytest.approx(8.0) and m[1, 2] == pytest.approx(8.0)
    med = fill_missing(np.array([[1.0], [NAN], [2.0], [10.0]]), "median")
    assert med[1, 0] == 2.0
    x, t = fill_missing(X, "drop_rows", t=np.arange(4))
    np.testing.assert_array_equal(t, [2, 3])
    assert x.shape == (2, 3)
    assert fill_missing(X, "drop_columns").shape == (4, 1)
    assert np.isnan(X).sum() == 2  # input untouched
    assert fill_missing(X, "mean").dtype == np.float32


def test_fill_missing_all_missing_column_and_errors():
    x = np.array([[NAN, 1.0], [NAN, 2.0]])
    np.testing.assert_array_equal(fill_missing(x, "mean")[:, 0], [0, 0])
    with pytest.raises(ValueError, match="unknown strategy 'avg'"):
        fill_missing(X, "avg")
    with pytest.raises(ValueError, match="must be 2-D"):
        fill_missing(np.zeros(3), "zero")
    with pytest.raises(ValueError, match="x has 4 rows but t has 3"):
        fill_missing(X, "drop_rows", t=[1, 2, 3])


def test_missing_filler_uses_training_statistics():
    f = MissingFiller("mean").fit(np.array([[1.0], [3.0]]))
    np.testing.assert_array_equal(f.transform(np.array([[NAN], [5.0]])), [[2.0], [5.0]])
    with pytest.raises(ValueError, match="call fit"):
        MissingFiller().transform(X)


def test_standardizer_fit_on_train_apply_to_test():
    rng = np.random.default_rng(0)
    a = rng.normal(5.0, 3.0, (1000, 4)).astype(np.float32)
    b = rng.normal(5.0, 3.0, (10, 4)).astype(np.float32)
    s = Standardizer().fit(a)
    z = s.transform(a)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-5)
    assert z.dtype == np.float32
    np.testing.assert_allclose(s.transform(b), (b - a.mean(0)) / a.std(0), rtol=1e-4)
    np.testing.assert_allclose(s.inverse_transform(s.transform(b)), b, rtol=1e-5)
    s2 = scaler_from_dict(s.to_dict())
    np.testing.assert_allclose(s2.transform(b), s.transform(b), rtol=1e-6)
    za, zb = standardize(a, b)
    np.testing.assert_allclose(zb, s.transform(b), rtol=1e-6)


def test_standardizer_constant_column_and_shape_errors():
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_array_equal(Standardizer().fit_transform(x)[:, 1], [0, 0])
    s = Standardizer().fit(x)
    with pytest.raises(ValueError, match=r"fitted on features of shape \(2,\), got x of shape"):
        s.transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="call fit"):
        Standardizer().transform(x)
    with pytest.raises(ValueError, match="numeric"):
        Standardizer().fit(np.array([["a", "b"]]))


def test_min_max_scaler():
    a = np.array([[0.0, 10.0], [5.0, 20.0], [10.0, 30.0]], dtype=np.float32)
    s = MinMaxScaler().fit(a)
    np.testing.assert_allclose(s.transform(a), [[0, 0], [0.5, 0.5], [1, 1]])
    np.testing.assert_allclose(s.transform(np.array([[20.0, 0.0]])), [[2.0, -0.5]])
    r = MinMaxScaler((-1, 1)).fit(a)
    np.testing.assert_allclose(r.transform(a)[:, 0], [-1, 0, 1])
    np.testing.assert_allclose(r.inverse_transform(r.transform(a)), a, atol=1e-6)
    assert scaler_from_dict(r.to_dict()).feature_range == (-1.0, 1.0)
    _, b = min_max_scale(a, a[:1])
    np.testing.assert_allclose(b, [[0, 0]])
    with pytest.raises(ValueError, match="lo < hi"):
        MinMaxScaler((1, 0))


@pytest.mark.parametrize("cls", [Standardizer, MinMaxScaler])
def test_scalers_share_checks_and_round_trip_through_dict(cls):
    a = np.array([[0.0, 10.0], [5.0, 20.0], [10.0, 40.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=rf"{cls.__name__}.fit: x has no samples"):
        cls().fit(np.zeros((0, 2)))
    for method in ("transform", "inverse_transform"):
        with pytest.raises(ValueError, match=rf"{cls.__name__}: call fit\(x_train\) before"):
            getattr(cls(), method)(a)
    s = cls().fit(a)
    s2 = scaler_from_dict(s.to_dict())
    assert type(s2) is cls and s2.to_dict() == s.to_dict()
    np.testing.assert_array_equal(s2.transform(a), s.transform(a))
    np.testing.assert_array_equal(s2.inverse_transform(a), s.inverse_transform(a))


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0]), [[0, 0, 1], [1, 0, 0]])
    assert one_hot([1], 4).shape == (1, 4) and one_hot([1]).dtype == np.float32
    with pytest.raises(ValueError, match="labels range from 0 to 5, expected 0..2"):
        one_hot([0, 5], 3)
    with pytest.raises(ValueError, match="must be integers"):
        one_hot([0.5])
    with pytest.raises(ValueError, match="must be 1-D"):
        one_hot([[1]])


def test_train_test_split_sizes_determinism_and_pairing():
    x = np.arange(100).reshape(50, 2)
    t = np.arange(50)
    (xa, ta), (xb, tb) = train_test_split(x, t, test_size=0.2, seed=1)
    assert len(xb) == 10 and len(xa) == 40
    assert np.array_equal(xa[:, 0] // 2, ta) and np.array_equal(xb[:, 0] // 2, tb)
    assert sorted(np.concatenate([ta, tb]).tolist()) == list(range(50))
    (xa2, _), _ = train_test_split(x, t, test_size=0.2, seed=1)
    assert np.array_equal(xa, xa2)
    (xa3, _), _ = train_test_split(x, t, test_size=0.2, seed=2)
    assert not np.array_equal(xa, xa3)
    assert len(train_test_split(x, t, test_size=7)[1][0]) == 7


def test_train_test_split_stratified():
    t = np.array([0] * 80 + [1] * 20)
    x = np.arange(100)[:, None]
    (_, ta), (_, tb) = train_test_split(x, t, test_size=0.25, seed=0, stratify=True)
    assert np.bincount(tb).tolist() == [20, 5] and np.bincount(ta).tolist() == [60, 15]


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="x has 3 samples but t has 2"):
        train_test_split(np.zeros((3, 1)), [1, 2])
    with pytest.raises(ValueError, match=r"must be in \(0, 1\)"):
        train_test_split(np.zeros((3, 1)), [1, 2, 3], test_size=1.5)
    with pytest.raises(ValueError, match="need at least one in each part"):
        train_test_split(np.zeros((3, 1)), [1, 2, 3], test_size=0.01)


@pytest.mark.parametrize("cls", [Standardizer, MinMaxScaler])
def test_scalers_refuse_to_fit_on_missing_or_infinite_values(cls):
    x = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]], np.float32)
    with pytest.raises(ValueError, match=rf"{cls.__name__}.fit: x has missing values \(NaN\), "
                                         r"first at sample 1, feature 1; deal with them first"):
        cls().fit(x)
    x[1, 1] = np.inf
    with pytest.raises(ValueError, match="x has infinite values, first at sample 1, feature 1"):
        cls().fit(x)
    images = np.zeros((2, 1, 3, 3))
    images[1, 0, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"first at sample 1, feature \(0, 2, 0\)"):
        cls().fit(images)
    # once filled, the same data fits
    filled = fill_missing(np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]]), "mean")
    assert np.isfinite(cls().fit_transform(filled)).all()


def test_train_test_split_test_size_types():
    x, t = np.arange(10)[:, None], np.arange(10)
    for size in (3, np.int64(3), 0.3, np.float32(0.3)):
        (_, ta), (_, tb) = train_test_split(x, t, test_size=size, seed=0)
        assert (len(ta), len(tb)) == (7, 3), size
    for size in ("0.2", None, True):
        with pytest.raises(ValueError, match="test_size must be a fraction in \\(0, 1\\) or a "
                                             "number of samples, got"):
            train_test_split(x, t, test_size=size)


def test_min_max_scaler_maps_a_constant_column_to_the_low_end():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]])
    s = MinMaxScaler().fit(x)
    np.testing.assert_array_equal(s.transform(x), [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]])
    # a new value in the constant column moves by its difference (the span is taken as 1)
    np.testing.assert_array_equal(s.transform(np.array([[2.0, 7.0]])), [[0.5, 2.0]])
    np.testing.assert_array_equal(s.inverse_transform(s.transform(x)), x)
    wide = MinMaxScaler(feature_range=(-1.0, 1.0)).fit(x)
    np.testing.assert_array_equal(wide.transform(x)[:, 1], [-1.0, -1.0, -1.0])
    assert np.isfinite(wide.transform(x)).all()
