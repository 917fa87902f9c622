"""The window's display widgets: the frame, the seven ring bars, the timeline, and the phase images."""

from __future__ import annotations

from qtpy.QtCore import QPointF, QRectF, Qt, Signal
from qtpy.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPixmap
from qtpy.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from ..annotate import EMOTION_COLORS
from ..data import EMOTIONS, FACE_SIZE
from .render import hog_display, lbp_display, to_qimage

TRACK_COLOR = QColor(70, 70, 70)


def emotion_qcolor(emotion):
    """The emotion's colour from :data:`fer_classic.annotate.EMOTION_COLORS`."""
    return QColor(*EMOTION_COLORS[EMOTIONS.index(emotion)])


class FrameView(QWidget):
    """The annotated frame, scaled to fit and centred; a click reports the image pixel under it."""

    clicked = Signal(float, float)      # x, y in image pixels

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pixmap = QPixmap()
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def pixmap(self):
        """The frame as rendered, at full resolution."""
        return self._pixmap

    def set_image(self, image):
        """Show a ``QImage``."""
        self._pixmap = QPixmap.fromImage(image)
        self.update()

    def _target(self):
        # Where the pixmap is drawn: as large as fits, aspect kept, centred.
        if self._pixmap.isNull():
            return QRectF()
        scale = min(self.width() / self._pixmap.width(), self.height() / self._pixmap.height())
        width, height = self._pixmap.width() * scale, self._pixmap.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(30, 30, 30))
        if self._pixmap.isNull():
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Open images, a folder, a video or the camera,\nor drop files here.")
        else:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(self._target(), self._pixmap, QRectF(self._pixmap.rect()))
        painter.end()

    def mousePressEvent(self, event):
        target = self._target()
        position = event.position()
        if target.contains(position):
            scale = self._pixmap.width() / target.width()
            self.clicked.emit((position.x() - target.x()) * scale, (position.y() - target.y()) * scale)


class RingBar(QWidget):
    """One probability as a coloured ring, the percentage inside and the emotion's name below.

    The original app showed one round progress bar per emotion; this is that bar.
    """

    def __init__(self, emotion, parent=None):
        super().__init__(parent)
        self.emotion = emotion
        self.value = None               # probability, or None when no face is selected
        self.highlighted = False        # the top emotion
        self.setMinimumSize(64, 86)

    def set_value(self, value, highlighted=False):
        self.value, self.highlighted = value, highlighted
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height() - 22) - 10
        ring = QRectF((self.width() - side) / 2, 5, side, side)
        painter.setPen(QPen(TRACK_COLOR, 7))
        painter.drawEllipse(ring)
        if self.value:
            painter.setPen(QPen(emotion_qcolor(self.emotion), 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
            # Angles in 1/16 degree, counter-clockwise from 3 o'clock: start at 12 and run clockwise.
            painter.drawArc(ring, 90 * 16, -round(self.value * 360 * 16))
        painter.setPen(self.palette().color(self.foregroundRole()))
        text = "-" if self.value is None else f"{self.value:.0%}"
        painter.drawText(ring, Qt.AlignmentFlag.AlignCenter, text)
        font = QFont(painter.font())
        font.setBold(self.highlighted)
        painter.setFont(font)
        painter.drawText(QRectF(0, ring.bottom() + 4, self.width(), 18), Qt.AlignmentFlag.AlignCenter, self.emotion)
        painter.end()


class ProbabilityPanel(QWidget):
    """Seven ring bars in the fixed :data:`~fer_classic.data.EMOTIONS` order, for the selected face."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bars = {emotion: RingBar(emotion) for emotion in EMOTIONS}
        for i, bar in enumerate(self.bars.values()):
            layout.addWidget(bar, i // 4, i % 4)

    def set_probabilities(self, probabilities):
        """Show ``{emotion: probability}``, or clear the bars with None."""
        top = max(probabilities, key=probabilities.get) if probabilities else None
        for emotion, bar in self.bars.items():
            bar.set_value(probabilities[emotion] if probabilities else None, emotion == top)

    def values(self):
        """``{emotion: probability}`` as shown (None each when cleared)."""
        return {emotion: bar.value for emotion, bar in self.bars.items()}


class TimelinePlot(QWidget):
    """The selected face's seven probabilities over the last ``span`` seconds, scrolling left.

    Every analysed frame adds one point; a frame without a face adds a gap.

    Parameters
    ----------
    span : float
        Seconds shown.
    """

    def __init__(self, span=10.0, parent=None):
        super().__init__(parent)
        self.span = span
        self.points = []                # (time, {emotion: probability} or None), one per analysed frame
        self.setMinimumHeight(120)

    def add(self, seconds, probabilities):
        self.points.append((seconds, probabilities))
        self.update()

    def clear(self):
        self.points = []
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(34, 8, -8, -18)
        painter.fillRect(self.rect(), QColor(30, 30, 30))
        painter.setPen(TRACK_COLOR)
        for level in (0.0, 0.5, 1.0):
            y = area.bottom() - level * area.height()
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.drawText(QRectF(0, y - 8, 30, 16), Qt.AlignmentFlag.AlignRight, f"{level:.1f}")
        end = self.points[-1][0] if self.points else 0.0
        start = max(0.0, end - self.span)
        painter.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), 16), Qt.AlignmentFlag.AlignRight,
                         f"{end:.1f} s")
        visible = [(t, p) for t, p in self.points if t >= start]
        for emotion in EMOTIONS:
            painter.setPen(QPen(emotion_qcolor(emotion), 1.6))
            painter.drawPath(self._path(visible, emotion, area, start))
        painter.end()

    def _path(self, points, emotion, area, start):
        path, pen_down = QPainterPath(), False
        for seconds, probabilities in points:
            if probabilities is None:
                pen_down = False
                continue
            point = QPointF(area.left() + (seconds - start) / self.span * area.width(),
                            area.bottom() - probabilities[emotion] * area.height())
            if pen_down:
                path.lineTo(point)
            else:
                path.moveTo(point)
            pen_down = True
        return path


class PhaseImages(QWidget):
    """What phase 2 sees of the selected face: the aligned 48x48 face, its HOG and its LBP image.

    Parameters
    ----------
    zoom : int
        Display pixels per face pixel.
    """

    def __init__(self, zoom=2, parent=None):
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.images = {}
        for column, name in enumerate(("aligned", "HOG", "LBP")):
            title, image = QLabel(name), QLabel()
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            image.setFixedSize(FACE_SIZE * zoom, FACE_SIZE * zoom)
            layout.addWidget(title, 0, column)
            layout.addWidget(image, 1, column)
            self.images[name] = (title, image)

    def show_face(self, face, hog=True, lbp=True):
        """Show ``face``'s phase images (those switched on); hide everything when ``face`` lacks them."""
        arrays = {"aligned": face["aligned"], "HOG": hog_display(face["hog_image"]),
                  "LBP": lbp_display(face["lbp_image"])} if face and "aligned" in face else {}
        wanted = {"aligned": True, "HOG": hog, "LBP": lbp}
        for name, (title, label) in self.images.items():
            visible = name in arrays and wanted[name]
            title.setVisible(visible)
            label.setVisible(visible)
            if visible:
                # Nearest-neighbour zoom: the pixels are the point.
                label.setPixmap(QPixmap.fromImage(to_qimage(arrays[name])).scaled(
                    label.size(), Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation))
        self.setVisible(bool(arrays))

