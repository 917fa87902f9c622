"""Starting the desktop app: what is set and checked before Qt's application object exists."""

import pytest

pytest.importorskip("pytestqt")         # the GUI and its tests need the [gui]/[dev] extras

from fer_classic.gui import app  # noqa: E402


class Created(Exception):
    """Raised by the stand-in QApplication, to stop run() right there."""


class FakeApplication:
    """Records the environment at the moment run() creates the application object."""

    environment = None

    @staticmethod
    def instance():
        return None

    def __init__(self, argv):
        FakeApplication.environment = dict(app.os.environ)
        raise Created


@pytest.fixture
def fake_qt(monkeypatch):
    monkeypatch.setattr(app, "QApplication", FakeApplication)
    monkeypatch.setattr(app, "_check_xcb_libraries", lambda: None)
    monkeypatch.setenv("DISPLAY", ":99")
    return FakeApplication


def test_no_gl_integration_before_the_application_exists(fake_qt, monkeypatch):
    # Issue 43, bug 10: on PySide2, Qt 5's GLX integration loaded Mesa's LLVM and importing TensorFlow then crashed.
    monkeypatch.delenv("QT_XCB_GL_INTEGRATION", raising=False)
    with pytest.raises(Created):
        app.run(["fer-classic"])
    assert fake_qt.environment["QT_XCB_GL_INTEGRATION"] == "none"


def test_a_gl_integration_the_user_chose_is_kept(fake_qt, monkeypatch):
    monkeypatch.setenv("QT_XCB_GL_INTEGRATION", "xcb_egl")
    with pytest.raises(Created):
        app.run(["fer-classic"])
    assert fake_qt.environment["QT_XCB_GL_INTEGRATION"] == "xcb_egl"


def test_missing_xcb_libraries_are_all_named(monkeypatch):
    # Issue 43, bug 8: Qt named libxcb-cursor0 only, though two more were missing too.
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    absent = {"xcb-cursor", "xcb-icccm", "xcb-keysyms"}
    monkeypatch.setattr(app.ctypes.util, "find_library", lambda name: None if name in absent else f"lib{name}.so")
    with pytest.raises(RuntimeError) as error:
        app._check_xcb_libraries()
    message = str(error.value)
    assert "needs libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1;" in message
    assert "apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in message
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")      # another platform plugin needs none of them
    app._check_xcb_libraries()


def test_no_display_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(app.sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="xvfb-run .Debian: apt-get install xvfb"):
        app._check_display()
