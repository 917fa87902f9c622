"""Projection mode: the window as a class sees it on a wall (View > Projection mode, F5, ``--present``)."""

from __future__ import annotations

from qtpy.QtGui import QColor, QFont, QPalette

from .widgets import LABEL_PIXELS, PHASE_SIDE

PRESENT_SCALE, PRESENT_PHASE_SIDE = 1.6, 200        # type 1.6 times larger, phase views 200 px
TIMELINE_HEIGHT = 130


def high_contrast():
    """Light text on black, for a projector: washed-out greys and thin colours vanish on a wall."""
    palette = QPalette()
    for role, color in ((QPalette.ColorRole.Window, "black"), (QPalette.ColorRole.WindowText, "white"),
                        (QPalette.ColorRole.Base, "#101010"), (QPalette.ColorRole.AlternateBase, "#202020"),
                        (QPalette.ColorRole.Text, "white"), (QPalette.ColorRole.Button, "#202020"),
                        (QPalette.ColorRole.ButtonText, "white"), (QPalette.ColorRole.Highlight, "#ffd400"),
                        (QPalette.ColorRole.HighlightedText, "black")):
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#707070"))     # what cannot be used looks it
    return palette


class PresentationMode:
    """:meth:`set_present` for :class:`~fer_classic.gui.window.MainWindow` (a mixin)."""

    def set_present(self, on):
        """Projection mode (View menu, F5, ``fer-classic gui --present``): for a class watching a projector.

        Large type everywhere, light text on black, large phase images and
        face labels; off, the desktop's own look comes back.
        """
        self._set_quietly(self.present_action, on)
        scale = PRESENT_SCALE if on else 1.0
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * scale)
        self.setFont(font)
        self.setPalette(high_contrast() if on else QPalette())
        self.result.set_text_scale(scale)
        self.result.phase_images.set_side(PRESENT_PHASE_SIDE if on else PHASE_SIDE)
        self.view.label_pixels = round(LABEL_PIXELS * scale)
        self.timeline.setFixedHeight(round(TIMELINE_HEIGHT * scale))
        self._fit_panel()
        self._render()
        self.view.update()
