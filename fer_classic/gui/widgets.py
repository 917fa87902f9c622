"""The window's display widgets: the frame with its faces, the result panel (rings and phase images), the timeline.

Rings, boxes, labels and the timeline show the model's classes, in its order and in
:func:`fer_classic.annotate.class_colors`' colours: a face's ``probabilities``
dict says which they are.

Text alignment goes to ``QPainter.drawText`` as a plain int (:func:`text_flags`):
PySide2 5.13 on Python 3.11 cannot convert Qt's flag objects there.
"""

from __future__ import annotations

import functools
import inspect
import math
import operator

from qtpy.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from qtpy.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPixmap, QTransform
from qtpy.QtWidgets import (QGridLayout, QLabel, QSizePolicy, QSlider, QStyle, QStyleOptionSlider, QVBoxLayout,
                            QWidget)

from ..annotate import class_color, face_label, place_labels
from ..extract.lbp import N_LABELS
from ..faces import EMOTIONS, FACE_SIZE
from ..phases import hog_visualisation
from .render import (LANDMARK_COLOR, SELECTED_COLOR, Overlays, hog_display, landmark_radius, landmarks_in_image,
                     lbp_display, to_qimage)

BACKGROUND = QColor(30, 30, 30)
TRACK_COLOR = QColor(70, 70, 70)
TEXT_COLOR = QColor(200, 200, 200)
ERROR_COLOR = QColor(255, 120, 110)
LANDMARK_QCOLOR = QColor(*LANDMARK_COLOR[::-1])    # the saved image's colours, BGR there
HALO_QCOLOR = QColor(*SELECTED_COLOR[::-1])
LABEL_PIXELS = 14                       # height of the face labels on screen, whatever the image size
PHASE_SIDE = 132                        # the phase images' side on screen, in pixels (larger in projection mode)
RINGS_PER_ROW = 4                       # FER2013's seven in two rows: the side panel stays narrow
DIM_COLOR = QColor(0, 0, 0, 170)        # over a frame whose result is out of date
PLACEHOLDER = "Open images, a folder, a video or the camera,\nor drop files here."


def text_flags(*flags):
    """Qt flags as the plain int ``QPainter.drawText`` takes, on every binding."""
    return functools.reduce(operator.or_, (int(flag) for flag in flags), 0)


CENTER = text_flags(Qt.AlignmentFlag.AlignCenter)


def emotion_qcolor(name, classes=EMOTIONS):
    """The colour of class ``name`` among a model's ``classes`` (:func:`fer_classic.annotate.class_color`)."""
    return QColor(*class_color(name, classes))


def face_qcolor(face):
    """The colour of a face's class, among the classes of its ``probabilities``."""
    return emotion_qcolor(face["emotion"], face["probabilities"])


def ink_on(color):
    """Black or white, whichever reads better on ``color``."""
    luminance = 0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue()
    return QColor(0, 0, 0) if luminance > 140 else QColor(255, 255, 255)


def swatch(name, classes=EMOTIONS):
    """A square in the colour of class ``name`` among ``classes``, as rich text for a ``QLabel``."""
    return f'<span style="color:{emotion_qcolor(name, classes).name()}">&#9632;</span>'


class FrameView(QWidget):
    """The frame, scaled to fit and centred, with boxes, labels and landmarks drawn at screen resolution.

    Drawing the overlays on the screen rather than into the image keeps the
    labels the same size for a 300 px photo and a 4000 px one; labels are
    placed so that none covers another (:func:`fer_classic.annotate.place_labels`).
    With no frame, the view shows a message instead: how to start, or an
    error. While the worker is busy (a model loading, the next image being
    analysed) the frame is dimmed, its faces hidden, and the view says why.
    """

    clicked = Signal(float, float)      # x, y in image pixels

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pixmap = QPixmap()
        self._faces, self._selected, self._overlays = [], None, Overlays()
        self.label_pixels = LABEL_PIXELS    # larger in projection mode
        self._message, self._is_error = PLACEHOLDER, False
        self._busy = ""                 # what the worker is doing while the frame shown is out of date
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_frame(self, image, faces, selected, overlays):
        """Show ``image`` (a ``QImage``) and draw ``faces`` over it.

        Parameters
        ----------
        image : QImage
        faces : list of dict
            With ``box``, ``emotion``, ``probabilities`` and optionally
            ``face_id`` and ``landmarks``.
        selected : int or None
            The face shown in the result panel, drawn thicker, with a white halo.
        overlays : Overlays
        """
        self._pixmap = QPixmap.fromImage(image)
        self._faces, self._selected, self._overlays, self._busy = list(faces), selected, overlays, ""
        self.update()

    def show_message(self, text, error=False):
        """Clear the frame and show ``text`` in its place, in red for an ``error``."""
        self._pixmap = QPixmap()
        self._faces, self._message, self._is_error, self._busy = [], text, error, ""
        self.update()

    def set_busy(self, text):
        """Say what the worker is doing (e.g. "loading fer-cnn..."): the frame shown is dimmed and its faces hidden."""
        self._busy = text
        self.update()

    def message(self):
        """The text shown in place of a frame; empty while a frame is shown."""
        return self._message if self._pixmap.isNull() else ""

    def busy(self):
        """What :meth:`set_busy` said, until the next frame or message; empty when the frame is up to date."""
        return self._busy

    def transform(self):
        """Image pixels to widget pixels: as large as fits, aspect kept, centred (identity with no frame)."""
        if self._pixmap.isNull():
            return QTransform()
        scale = min(self.width() / self._pixmap.width(), self.height() / self._pixmap.height())
        return QTransform(scale, 0, 0, scale, (self.width() - self._pixmap.width() * scale) / 2,
                          (self.height() - self._pixmap.height() * scale) / 2)

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._pixmap.isNull():
            painter.setPen(ERROR_COLOR if self._is_error else TEXT_COLOR)
            painter.drawText(QRectF(self.rect()).adjusted(20, 20, -20, -20),
                             text_flags(Qt.AlignmentFlag.AlignCenter, Qt.TextFlag.TextWordWrap),
                             self._busy or self._message)
            painter.end()
            return
        transform = self.transform()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(transform.mapRect(QRectF(self._pixmap.rect())), self._pixmap, QRectF(self._pixmap.rect()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._busy:
            painter.fillRect(self.rect(), DIM_COLOR)
            font = QFont(self.font())
            font.setPixelSize(2 * self.label_pixels)
            painter.setFont(font)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(QRectF(self.rect()).adjusted(20, 20, -20, -20),
                             text_flags(Qt.AlignmentFlag.AlignCenter, Qt.TextFlag.TextWrapAnywhere), self._busy)
        else:
            self._paint_faces(painter, transform)
        painter.end()

    def _label_font(self, selected):
        font = QFont(self.font())
        font.setPixelSize(self.label_pixels)
        font.setBold(selected)
        return font

    def labels(self):
        """Each face's label as drawn: ``(index, QRectF in widget pixels, text)``, none covering another.

        The selected face's label is placed first, so it sits above its box.
        """
        if not self._overlays.boxes or self._busy:
            return []
        transform = self.transform()
        order = sorted(range(len(self._faces)), key=lambda i: i != self._selected)
        texts = [face_label(self._faces[i]) for i in order]
        sizes = []
        for i, text in zip(order, texts):
            size = QFontMetricsF(self._label_font(i == self._selected)).size(0, text)
            sizes.append((size.width() + 8, size.height() + 4))
        boxes = [transform.mapRect(QRectF(*self._faces[i]["box"])).getRect() for i in order]
        rectangles = place_labels(boxes, sizes, (self.width(), self.height()))
        return [(i, QRectF(*rectangle), text) for i, rectangle, text in zip(order, rectangles, texts)]

    def _paint_faces(self, painter, transform):
        if self._overlays.landmarks:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(LANDMARK_QCOLOR)
            for face in self._faces:
                if "landmarks" in face:
                    radius = landmark_radius(transform.mapRect(QRectF(*face["box"])).width())
                    for x, y in landmarks_in_image(face):
                        painter.drawEllipse(transform.map(QPointF(x, y)), radius, radius)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        if not self._overlays.boxes:
            return
        # The selected face last, so that its box is on top; then the labels, over every box.
        for index in sorted(range(len(self._faces)), key=lambda i: i == self._selected):
            selected, face = index == self._selected, self._faces[index]
            box = transform.mapRect(QRectF(*face["box"]))
            if selected:
                painter.setPen(QPen(HALO_QCOLOR, 8))     # 2.5 px of white outside the coloured line
                painter.drawRect(box)
            painter.setPen(QPen(face_qcolor(face), 3 if selected else 1.5))
            painter.drawRect(box)
        for index, label, text in self.labels():
            color = face_qcolor(self._faces[index])
            painter.setFont(self._label_font(index == self._selected))
            painter.fillRect(label, color)
            painter.setPen(ink_on(color))
            painter.drawText(label, CENTER, text)

    def mousePressEvent(self, event):
        inverse, invertible = self.transform().inverted()
        point = inverse.map(event.position())
        if invertible and not self._pixmap.isNull() and QRectF(self._pixmap.rect()).contains(point):
            self.clicked.emit(point.x(), point.y())


class RingBar(QWidget):
    """One probability as a coloured ring, the percentage inside and the class's name below.

    The original app showed one round progress bar per emotion; this is that bar.

    Parameters
    ----------
    emotion : str
        The class shown.
    classes : sequence of str
        The model's classes, which give ``emotion`` its colour.
    """

    def __init__(self, emotion, classes=EMOTIONS, parent=None):
        super().__init__(parent)
        self.emotion = emotion
        self.color = emotion_qcolor(emotion, classes)
        self.value = None               # probability, or None when no face is selected
        self.highlighted = False        # the top class
        self._fit()

    def _fit(self):
        # The ring holds "100%" and the name fits below it, in the type in use (projection mode enlarges it).
        metrics = QFontMetricsF(self.font())
        side = max(54.0, metrics.horizontalAdvance("100%") + 24)
        self.setMinimumSize(round(max(64.0, side + 10)), round(side + 10 + metrics.height() + 8))

    def ring(self):
        """Where the ring is drawn (the middle of its stroke), centred above the class name."""
        side = min(self.width(), self.height() - QFontMetricsF(self.font()).height() - 8) - 10
        return QRectF((self.width() - side) / 2, 5, side, side)

    def changeEvent(self, event):
        if event.type() == QEvent.Type.FontChange:
            self._fit()
        super().changeEvent(event)

    def set_value(self, value, highlighted=False):
        self.value, self.highlighted = value, highlighted
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        ring = self.ring()
        painter.setPen(QPen(TRACK_COLOR, 7))
        painter.drawEllipse(ring)
        if self.value:
            painter.setPen(QPen(self.color, 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
            # Angles in 1/16 degree, counter-clockwise from 3 o'clock: start at 12 and run clockwise.
            painter.drawArc(ring, 90 * 16, -round(self.value * 360 * 16))
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(ring, CENTER, "-" if self.value is None else f"{self.value:.0%}")
        font = QFont(painter.font())
        font.setBold(self.highlighted)
        painter.setFont(font)
        painter.drawText(QRectF(0, ring.bottom() + 4, self.width(), self.height() - ring.bottom() - 4), CENTER,
                         self.emotion)
        painter.end()


class ProbabilityPanel(QWidget):
    """A ring bar per class of the model, in its order, for the selected face: FER2013's seven at first."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.bars = {}
        self.set_classes(EMOTIONS)

    def set_classes(self, classes):
        """Show a ring per class of ``classes``, cleared; nothing changes when they are those shown."""
        if tuple(classes) == tuple(self.bars):
            return
        for bar in self.bars.values():
            self._layout.removeWidget(bar)
            bar.deleteLater()
        self.bars = {name: RingBar(name, classes) for name in classes}
        for i, bar in enumerate(self.bars.values()):
            self._layout.addWidget(bar, i // RINGS_PER_ROW, i % RINGS_PER_ROW)

    def set_probabilities(self, probabilities):
        """Show ``{class: probability}`` (the rings follow its classes), or clear the bars with None."""
        if probabilities:
            self.set_classes(probabilities)
        top = max(probabilities, key=probabilities.get) if probabilities else None
        for emotion, bar in self.bars.items():
            bar.set_value(probabilities[emotion] if probabilities else None, emotion == top)

    def values(self):
        """``{class: probability}`` as shown (None each when cleared)."""
        return {emotion: bar.value for emotion, bar in self.bars.items()}


def _hog_caption():
    # The HOG image is drawn by phases.hog_visualisation: its own defaults say what it shows.
    defaults = inspect.signature(hog_visualisation).parameters
    cell, bins = defaults["cell_size"].default, defaults["n_bins"].default
    return f"{cell}x{cell}-px cells, {bins} orientation bins: a bright stroke is a strong edge along it"


PHASE_VIEWS = {         # name: (title, caption, what the grey levels mean)
    "aligned": ("aligned face", f"{FACE_SIZE}x{FACE_SIZE} px, eyes level: what HOG and LBP read",
                "The face cut out, turned so that the eyes are level, and resized; dark is dark."),
    "HOG": ("HOG", _hog_caption(),
            "Histograms of oriented gradients: in each cell, one stroke per orientation bin, as bright as the "
            "edges in that direction are strong. Black: a flat cell."),
    "LBP": ("LBP", f"each pixel's 8 neighbours give one of {N_LABELS} patterns; a grey level names a pattern",
            "Local binary patterns: each pixel is compared with its 8 neighbours; the grey level is the label of "
            "the pattern (edge, corner, spot...), not a brightness. Histograms of them per region describe texture."),
}


PHASE_HINTS = {         # what to turn on to see each phase view
    "aligned": "turn on an (extract) overlay below to see the aligned face",
    "HOG": "turn on 'HOG of the aligned face' below to see it",
    "LBP": "turn on 'LBP image' below to see it",
}


class PixelView(QWidget):
    """A small gray image zoomed with nearest-neighbour pixels (the pixels are the point), or a note in its place."""

    def __init__(self, side, parent=None):
        super().__init__(parent)
        self.setFixedSize(side, side)
        self._pixmap, self._note = QPixmap(), ""

    def set_image(self, image):
        """Show ``image`` (uint8, (h, w)); None clears it."""
        self._pixmap = QPixmap() if image is None else QPixmap.fromImage(to_qimage(image))
        self.update()

    def set_note(self, text):
        """Show ``text`` in place of an image."""
        self._pixmap, self._note = QPixmap(), text
        self.update()

    def has_image(self):
        return not self._pixmap.isNull()

    def paintEvent(self, event):
        painter = QPainter(self)
        if self._pixmap.isNull():
            painter.fillRect(self.rect(), BACKGROUND)
            painter.setPen(TEXT_COLOR)
            painter.drawText(QRectF(self.rect()).adjusted(6, 6, -6, -6),
                             text_flags(Qt.AlignmentFlag.AlignCenter, Qt.TextFlag.TextWordWrap), self._note)
        else:
            painter.drawPixmap(self.rect(), self._pixmap)      # no smoothing: pixels stay square
        painter.end()


class PhaseImages(QWidget):
    """What phase 2 sees of the selected face: the aligned face, its HOG and its LBP image, each with a caption.

    The three views always take their place, with a note where an image is
    not shown, so ticking an overlay never moves the settings below.

    Parameters
    ----------
    side : int
        Size of each view, in display pixels.
    """

    def __init__(self, side=PHASE_SIDE, parent=None):
        super().__init__(parent)
        self._small = 0.85              # captions' size against the panel's text
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setHorizontalSpacing(6)
        self.views, self.captions = {}, {}
        for column, (name, (title, caption, tip)) in enumerate(PHASE_VIEWS.items()):
            heading, view, text = QLabel(f"<b>{title}</b>"), PixelView(side), QLabel(caption)
            heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text.setWordWrap(True)
            text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            for widget in (heading, view, text):
                widget.setToolTip(tip)
            layout.addWidget(heading, 0, column)
            layout.addWidget(view, 1, column)
            layout.addWidget(text, 2, column, alignment=Qt.AlignmentFlag.AlignTop)     # captions of 2 and 3 lines
            self.views[name], self.captions[name] = view, text
        self.set_side(side)

    def set_side(self, side):
        """Show each view ``side`` pixels square (projection mode makes them large), captions as wide."""
        small = QFont(self.font())
        small.setPointSizeF(small.pointSizeF() * self._small)
        for name, view in self.views.items():
            view.setFixedSize(side, side)
            self.captions[name].setFixedWidth(side)
            self.captions[name].setFont(small)

    def show_face(self, face, hog=True, lbp=True, note="no face"):
        """Show ``face``'s aligned face, and its HOG and LBP images when asked for.

        In their place: ``note`` with no face, else how to see them (video
        keeps the phase images only while an extraction overlay is on).
        """
        arrays = {"aligned": face["aligned"], "HOG": hog_display(face["hog_image"]),
                  "LBP": lbp_display(face["lbp_image"])} if face and "aligned" in face else {}
        wanted = {"aligned": True, "HOG": hog, "LBP": lbp}
        for name, view in self.views.items():
            if name in arrays and wanted[name]:
                view.set_image(arrays[name])
            else:
                view.set_note(note if face is None else PHASE_HINTS[name])


class ResultPanel(QWidget):
    """The selected face's result: its class in large type, which face it is, a ring per class, the phase images."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = QLabel()
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.set_text_scale(1.0)
        self.detail = QLabel()
        for label in (self.headline, self.detail):
            label.setWordWrap(True)     # a long model name ("loading cnn-fer-hog-...") must not widen the panel
        self.rings = ProbabilityPanel()
        self.phase_images = PhaseImages()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        for widget in (self.headline, self.detail, self.rings, self.phase_images):
            column.addWidget(widget)
        self.clear("No face yet")

    def show_face(self, face, index, count, hog=False, lbp=False):
        """Show face ``index`` of ``count``; ``hog`` and ``lbp`` switch its phase images on."""
        # A square of the class's colour: coloured text would be unreadable for yellow on a light panel.
        self.headline.setText(f"{swatch(face['emotion'], face['probabilities'])} {face_label(face)}")
        # "#2" in the label is the face's track: the number it keeps from frame to frame in a video.
        track = f", tracked as #{face['face_id']} from frame to frame" if face.get("face_id") is not None else ""
        self.detail.setText(f"Face {index + 1} of {count}{track}"
                            + (". Click a face to select it." if count > 1 else "."))
        self.rings.set_probabilities(face["probabilities"])
        self.phase_images.show_face(face, hog, lbp)

    def set_text_scale(self, scale):
        """The headline at 1.6 times the panel's text, itself ``scale`` times the application's."""
        font = QFont(self.font())
        font.setPointSizeF(QFont().pointSizeF() * scale * 1.6)
        font.setBold(True)
        self.headline.setFont(font)

    def set_classes(self, classes):
        """Show rings for a model of ``classes`` (a model just loaded), cleared if they change."""
        self.rings.set_classes(classes)

    def clear(self, headline, detail=""):
        """Show no face: ``headline`` (e.g. "No face found", "loading fer-cnn...") and an optional ``detail``."""
        self.headline.setText(headline)
        self.detail.setText(detail)
        self.rings.set_probabilities(None)
        self.phase_images.show_face(None, note=headline)


class SeekSlider(QSlider):
    """A horizontal slider that jumps where it is clicked, as a video's position bar does (not by a page)."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                                 QStyle.SubControl.SC_SliderHandle, self)
            if not handle.contains(event.pos()):        # on the groove: move the handle there, then drag as usual
                x = event.pos().x() - handle.width() // 2
                self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x,
                                                             self.width() - handle.width()))
        super().mousePressEvent(event)


class TimelinePlot(QWidget):
    """The selected face's probabilities over the last ``span`` seconds, scrolling left, with a legend.

    Every analysed frame adds one point. The line breaks where nothing was
    measured: at a frame without a face, across more than :attr:`max_step`
    seconds without an analysed frame (a model loading, say), and between
    segments (passes of the video: another model's values are never joined
    to the previous model's).
    A line per class of the latest point's model: a model of other classes
    changes the legend, and a class's line breaks where it was not measured.

    Parameters
    ----------
    span : float
        Seconds shown.
    max_step : float
        Longest time between two points that are still joined.
    """

    def __init__(self, span=10.0, max_step=1.0, parent=None):
        super().__init__(parent)
        self.span, self.max_step = span, max_step
        self.points = []                # (time, {class: probability} or None, segment), one per analysed frame
        self.legend = QLabel()
        self._set_classes(EMOTIONS)
        self.legend.setStyleSheet(f"color: {TEXT_COLOR.name()};")
        column = QVBoxLayout(self)
        column.setContentsMargins(34, 2, 8, 0)
        column.addWidget(self.legend)
        column.addStretch(1)
        self.setMinimumHeight(120)

    def _set_classes(self, classes):
        self.classes = tuple(classes)
        self.legend.setText("&nbsp;&nbsp; ".join(f"{swatch(name, self.classes)}&nbsp;{name}" for name in self.classes))

    def add(self, seconds, probabilities, segment=0):
        """Add a frame's point; a point of another ``segment`` than the previous one is not joined to it."""
        if probabilities and tuple(probabilities) != self.classes:
            self._set_classes(probabilities)
        self.points.append((seconds, probabilities, segment))
        self.update()

    def clear(self):
        self.points = []
        self.update()

    def truncate(self, seconds):
        """Forget the points from ``seconds`` on: the video jumped back there and plays them again."""
        self.points = [point for point in self.points if point[0] < seconds]
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetricsF(self.font())          # margins follow the type: projection mode enlarges it
        left, line = metrics.horizontalAdvance("0.0") + 8, metrics.height()
        area = QRectF(self.rect()).adjusted(left, self.legend.geometry().bottom() + 8, -8, -line - 4)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setPen(TEXT_COLOR.darker(140))
        right = text_flags(Qt.AlignmentFlag.AlignRight)
        for level in (0.0, 0.5, 1.0):
            y = area.bottom() - level * area.height()
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.drawText(QRectF(0, y - line / 2, left - 4, line), right, f"{level:.1f}")
        end = self.points[-1][0] if self.points else 0.0
        start = max(0.0, end - self.span)
        now_x = area.left() + (end - start) / self.span * area.width()
        now_text = f"now {end:.1f} s"
        now_width = metrics.horizontalAdvance(now_text) * 1.1 + 8     # bold
        now_left = min(max(area.left(), now_x - now_width / 2), area.right() - now_width)
        for second in range(math.ceil(start), math.floor(start + self.span) + 1):      # a tick every second
            x = area.left() + (second - start) / self.span * area.width()
            painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() + 4))
            label = QRectF(x - 30, area.bottom() + 3, 60, line)
            if second % 2 == 0 and not label.intersects(QRectF(now_left - 4, area.bottom(), now_width + 8, line)):
                painter.drawText(label, CENTER, f"{second} s")
        # The time now, bright and bold under the newest point, with a line up to it.
        painter.setPen(TEXT_COLOR)
        painter.drawLine(QPointF(now_x, area.top()), QPointF(now_x, area.bottom() + 4))
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(now_left, area.bottom() + 3, now_width, line), CENTER, now_text)
        for name in self.classes:
            painter.setPen(QPen(emotion_qcolor(name, self.classes), 1.6))
            painter.drawPath(self.path(name, area, start))
        painter.end()

    def path(self, emotion, area, start):
        """The line of class ``emotion`` for the points from ``start`` seconds, drawn in ``area`` (a ``QRectF``)."""
        path, previous = QPainterPath(), None
        for seconds, probabilities, segment in self.points:
            if seconds < start:
                continue
            value = None if probabilities is None else probabilities.get(emotion)
            if value is None:
                previous = None
                continue
            point = QPointF(area.left() + (seconds - start) / self.span * area.width(),
                            area.bottom() - value * area.height())
            if previous is not None and seconds - previous[0] <= self.max_step and segment == previous[1]:
                path.lineTo(point)
            else:
                path.moveTo(point)
            previous = seconds, segment
        return path
