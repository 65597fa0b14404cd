"""With a bad ``apirec_store`` AND a bad SDK name in
``apirec_integrations`` (nothing else set), the run must stop with the same usage error as
before the lazy start-up (the plugin's configure checked the SDK names before the store kind)."""

from __future__ import annotations


def test_a_bad_sdk_name_is_reported_before_a_bad_store_as_before(pytester, monkeypatch):
    for name in ("APIREC_MODE", "APIREC_DIR", "APIREC_STORE"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\napirec_store = yaml\napirec_integrations = opnai\n")
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: ini apirec_integrations: *'opnai' is not an SDK*"])
