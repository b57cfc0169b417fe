import pytest

from bnnet import NINE_LAYER, Config, ConfigError


def test_defaults_are_the_course_defaults():
    c = Config()
    assert c.hidden == (50, 50) and c.bn == "before"
    assert (c.eta_min, c.eta_max, c.n_s, c.cycles) == (1e-5, 1e-1, 2250, 2)
    assert (c.lam, c.batch_size, c.alpha, c.init) == (0.005, 100, 0.9, "he")
    assert c.n_updates == 9000 and c.n_layers == 3
    # the extensions are off by default
    assert (c.optimizer, c.eta_decay, c.dropout, c.flip, c.shift) == ("sgd", 1.0, 0.0, False, 0)
    assert Config(hidden=NINE_LAYER).n_layers == 9


def test_lists_become_tuples_so_configs_hash_and_compare():
    a, b = Config(hidden=[50, 50]), Config(hidden=(50, 50))
    assert a == b and hash(a) == hash(b)
    assert a.to_dict()["hidden"] == [50, 50]
    assert a.replace(lam=0.01).lam == 0.01


@pytest.mark.parametrize(("changes", "message"), [
    (dict(lam=-1), "lam=-1.0"),
    (dict(eta_min=0.2, eta_max=0.1), "swap them"),
    (dict(n_s=0), "n_s=0"),
    (dict(cycles=-2), "cycles=-2"),
    (dict(batch_size=0), "batch_size=0"),
    (dict(hidden=[]), "at least one hidden layer"),
    (dict(hidden=[50, 0]), "positive integer"),
    (dict(hidden="50,50"), "list of hidden-layer sizes"),
    (dict(init="glorot"), "init='glorot'"),
    (dict(bn="middle"), "bn='middle'"),
    (dict(sigma=0.0), "sigma=0.0"),
    (dict(alpha=1.0), "alpha=1.0"),
    (dict(alpha=-0.1), "alpha=-0.1"),
    (dict(n_s=2250.0), "write 2250"),
    (dict(lam="0.01"), "expected a number"),
    (dict(batch_norm="yes"), "True or False"),  # the deprecated keyword
    (dict(dtype="float16"), "dtype='float16'"),
    (dict(optimizer="rmsprop"), "optimizer='rmsprop'"),
    (dict(eta_decay=0.0), "eta_decay=0.0"),
    (dict(eta_decay=1.5), "eta_decay=1.5"),
    (dict(dropout=1.0), "dropout=1.0"),
    (dict(shift=-1), "shift=-1"),
    (dict(shift=2.0), "write 2"),
    (dict(flip=1), "flip=1"),
    (dict(label_smoothing=1.0), "label_smoothing=1.0"),
    (dict(label_smoothing=-0.1), "label_smoothing=-0.1"),
    (dict(test_flip="yes"), "test_flip"),
])
def test_invalid_values_are_rejected_with_the_field_name(changes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Config(**changes)


def test_an_unknown_field_is_a_config_error_with_the_closest_name():
    with pytest.raises(ConfigError, match=r"no field 'hiden' \(did you mean 'hidden'\?\)"):
        Config(hiden=[50, 50])
    with pytest.raises(ConfigError, match=r"no field 'cylces' \(did you mean 'cycles'\?\)"):
        Config().replace(cylces=3)
    with pytest.raises(ConfigError, match=r"no field 'xyz'; its fields are hidden, "):
        Config(xyz=1)


def test_sigma_without_a_fixed_sigma_init_is_an_error_that_names_the_init():
    with pytest.raises(ConfigError, match=r'sigma=0.001 is only used with init="normal"'):
        Config(sigma=1e-3)
    assert Config(init="normal", sigma=1e-3).sigma == 1e-3
    with pytest.raises(ConfigError, match="init"):
        Config(init="normal", sigma=1e-3).replace(init="xavier")


@pytest.mark.parametrize("legacy, bn", [
    (dict(batch_norm=False), "none"),
    (dict(batch_norm=True), "before"),
    (dict(batch_norm=True, bn_position="after"), "after"),
    (dict(bn_position="after"), "after"),
    (dict(batch_norm=False, bn_position="after"), "none"),
])
def test_the_old_bn_keywords_still_work_and_name_the_new_one(legacy, bn):
    with pytest.warns(DeprecationWarning, match=f"is deprecated: write bn='{bn}'"):
        config = Config(**legacy)
    assert config == Config(bn=bn)
    # replace() changes what the keywords name and keeps the rest of the placement
    expected = ("none" if legacy.get("batch_norm") is False
                else legacy.get("bn_position", "after"))
    with pytest.warns(DeprecationWarning, match="write bn="):
        assert Config(bn="after").replace(**legacy).bn == expected


def test_bn_placement_is_one_field_with_three_states():
    assert [Config(bn=b).has_bn for b in ("none", "before", "after")] == [False, True, True]
    assert "batch_norm" not in Config.field_names() and "bn_position" not in Config.field_names()
    with pytest.raises(ConfigError, match="give BN's placement once"):
        Config(bn="after", batch_norm=True)
