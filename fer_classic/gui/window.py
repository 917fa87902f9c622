"""The main window: sources in, annotated frames and probabilities out.

The window only moves data around. Images and frames go to the
:class:`~fer_classic.gui.worker.AnalysisWorker` (recognition, in its own
thread); its results come back as signals and are drawn here. Every source
(an image, a video, the camera, a jump within a video) gets a new *source
id*: a result stamped with an older one arrived too late and is ignored, as
is a result made with settings that have changed since.

While the worker is busy for the user (a model loading, the next image, a
setting changed) the old result is dimmed and says so: nothing out of date
looks like the answer. Errors replace results: the view shows the error where
the picture was, the rings are cleared, and the status bar keeps the error
until the user does something (passing messages, such as a model being ready,
do not replace it). There are no modal dialogs, and the window keeps running.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
from pathlib import Path

from qtpy.QtCore import QByteArray, QEvent, QSize, Qt, Signal
from qtpy.QtGui import QAction, QIcon, QKeySequence, QPixmap
from qtpy.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem, QMainWindow,
                            QMessageBox, QProgressBar, QScrollArea, QSpinBox, QSplitter, QStyle, QToolButton,
                            QVBoxLayout, QWidget)

from .. import __version__
from ..pipeline import IMAGE_SUFFIXES, expand_image_paths
from ..store import ModelError, list_models, shipped_models_dir, user_models_dir
from ..video import VideoError
from .controls import SidePanel, accuracy_text
from .outputs import OutputActions
from .present import TIMELINE_HEIGHT, PresentationMode
from .playback import LOADING, PLAYING, Playback
from .render import render_frame, to_qimage
from .sources import VIDEO_SUFFIXES, FrameReader, ThumbnailLoader, is_video, videos_in
from .widgets import FrameView, ResultPanel, SeekSlider, TimelinePlot
from .worker import AnalysisWorker, FrameJob

RECORD_KEYS = ("face_id", "box", "emotion", "probabilities")    # what a CSV row needs of a face
INFO_MS = 5000                                                  # how long passing messages stay
TITLE = "fer_classic: facial expressions in three phases"
THUMBNAIL_ICON, THUMBNAIL_GRID = QSize(80, 80), QSize(112, 106)  # every item in a cell of its own: none overlaps
THUMBNAIL_ITEM = THUMBNAIL_GRID - QSize(6, 4)                   # a gap between neighbours
NOTHING_SHOWN = "No face yet"
FER2013_URL = "https://www.kaggle.com/c/challenges-in-representation-learning-facial-expression-recognition-challenge"
_DETACHED = set()       # workers still finishing a model load after their window closed (see MainWindow._shut_down)


def overlapping(faces):
    """True when a face's box has its centre inside another's: real faces do not, false detections often do."""
    boxes = [face["box"] for face in faces]
    return any(x <= cx + w2 / 2 < x + w and y <= cy + h2 / 2 < y + h
               for i, (x, y, w, h) in enumerate(boxes)
               for j, (cx, cy, w2, h2) in enumerate(boxes) if i != j)


def _read_json(settings, key):
    # One JSON string per key: QSettings' own types differ between PySide2 and PySide6 (bools come back as text).
    try:
        value = json.loads(settings.value(key, "{}") or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def wait_for_detached():
    """Wait for the workers of closed windows to finish their load (the app's end: none may be destroyed running)."""
    for worker in list(_DETACHED):
        worker.wait()


atexit.register(wait_for_detached)     # also when the app did not end through run(), as in tests


def clock(seconds):
    """``"1:05"`` for 65 seconds."""
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class MainWindow(OutputActions, PresentationMode, QMainWindow):
    """Facial-expression recognition on images, folders, videos and the camera.

    Attributes
    ----------
    analysis : Analysis or None
        The result on display.
    """

    analysis_shown = Signal(object)     # Analysis, once drawn
    stream_finished = Signal()          # a video or camera stream ended (or was stopped) and its last frame was shown
    export_finished = Signal(bool)      # a CSV of images was written (True) or not

    def __init__(self, parent=None, present=False, settings=None):
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.analysis = None
        self.playback = Playback()      # where the video or camera stands, and its current pass's results
        self._error_message = None      # the error on display, until the user does something
        self._busy = ""                 # what the worker is doing for the user; the result shown is out of date
        self._source_id = 0
        self._folder_id, self._paths, self._still_job, self._opened_paths = None, [], None, []
        self._opening, self._skipped = False, 0     # stepping over unreadable files to the first image
        self._selected_id = None        # face_id (streams) or index (images) of the face in the panel
        self._reader, self._thumbnail_loader, self._recorder, self._exporter = None, None, None, None
        self._stream_job = None         # the last stream frame shown, to analyse again when a setting changes
        self._stream_id = None          # the source id the current reader started with
        self._fallback = None           # what to say when the job in flight fails on a runtime given up
        self._awaiting = False          # an image (or a frame shown again) was submitted and not yet answered
        self._teach = None              # teach mode's dialog, once opened (fer_classic.gui.teach)

        self.result = ResultPanel()
        self.panel = SidePanel(self._read_models(), self.result)
        self._settings = settings       # QSettings remembered between sessions; None: nothing is remembered
        if settings is not None:
            self.panel.restore(_read_json(settings, "panel"))
        self._build_views()
        self._build_actions()
        if settings is not None:
            window = _read_json(settings, "window")
            if window.get("geometry"):
                self.restoreGeometry(QByteArray.fromHex(window["geometry"].encode()))
            present = present or window.get("present") is True
        if present:
            self.set_present(True)
        self.worker = AnalysisWorker(self.panel.settings(), self)
        self.worker.analyzed.connect(self._on_analyzed)
        self.worker.failed.connect(self._on_failed)
        self.worker.loading.connect(self._on_model_loading)
        self.worker.ready.connect(self._on_model_ready)
        self.worker.load_failed.connect(self._on_load_failed)
        self.panel.analysis_changed.connect(self._on_analysis_changed)
        self.panel.display_changed.connect(self._on_display_changed)
        self.panel.refused.connect(self._error)
        self.worker.start()
        self._update_actions()

    @property
    def records(self):
        """One dict per analysed frame of the video's or camera's current pass, in frame order.

        As :func:`fer_classic.video.analyze_video` yields them; a frame analysed
        again (a setting changed) keeps its latest result. A replay, a jump or
        another model starts a new pass (:class:`~fer_classic.gui.playback.Playback`).
        """
        return self.playback.rows

    # ----------------------------------------------------------------- layout

    def _read_models(self):
        try:
            models = {name: model.entry for name, model in list_models().items()}  # shipped, then yours
        except ModelError as error:
            self.statusBar().showMessage(f"Error: {error}")
            return {}
        if not models:
            self.statusBar().showMessage("Error: no models listed; train one with 'fer-classic train'")
        return models

    def _build_views(self):
        self.view = FrameView()
        self.view.clicked.connect(self._on_view_clicked)
        self.thumbnails = QListWidget()
        self.thumbnails.setViewMode(QListView.ViewMode.IconMode)
        self.thumbnails.setFlow(QListView.Flow.LeftToRight)
        self.thumbnails.setWrapping(False)
        self.thumbnails.setMovement(QListView.Movement.Static)
        self.thumbnails.setIconSize(THUMBNAIL_ICON)
        # A fixed cell per item, whatever its name or whether its icon has arrived: names are elided, never overlap.
        self.thumbnails.setGridSize(THUMBNAIL_GRID)
        self.thumbnails.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.thumbnails.setFixedHeight(THUMBNAIL_GRID.height() + self.thumbnails.horizontalScrollBar().sizeHint()
                                       .height() + 2 * self.thumbnails.frameWidth() + 4)
        self.thumbnails.currentRowChanged.connect(self._show_still)
        self.thumbnails.hide()
        self.player = self._build_player()
        self.player.hide()
        self.timeline = TimelinePlot()
        self.timeline.setFixedHeight(TIMELINE_HEIGHT)
        self.timeline.hide()
        self.timing_label = QLabel()

        left = QWidget()
        column = QVBoxLayout(left)
        for widget in (self.view, self.player, self.thumbnails, self.timeline, self.timing_label):
            column.addWidget(widget)
        column.setStretch(0, 1)

        scroll = self.panel_scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_panel()

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        self.setCentralWidget(splitter)

        self.busy_bar = QProgressBar()      # moving while the worker is busy for the user
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.hide()
        self.statusBar().addPermanentWidget(self.busy_bar)
        self.recording_label = QLabel("\u25cf recording")      # shown while the annotated video is recorded
        self.recording_label.setStyleSheet("color: #e02020; font-weight: bold;")
        self.recording_label.hide()
        self.statusBar().addPermanentWidget(self.recording_label)

    def _fit_panel(self):
        # As wide as the panel needs with the fonts in use: no horizontal scrolling, nothing cut off.
        scroll = self.panel_scroll
        scroll.setMinimumWidth(self.panel.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                               + 2 * scroll.frameWidth())

    def _build_player(self):
        """Play/pause, the position in the video (drag or click to jump) and its time over the total."""
        player = QWidget()
        row = QHBoxLayout(player)
        row.setContentsMargins(0, 0, 0, 0)
        self.play_button = QToolButton()
        self.seek_slider = SeekSlider()
        self.seek_slider.setToolTip("Position in the video: drag or click to jump (the frame is analysed there)")
        self.seek_slider.valueChanged.connect(self._on_slider_moved)
        self.seek_slider.sliderReleased.connect(lambda: self.seek(self.seek_slider.value()))
        self.position_label = QLabel()
        for widget in (self.play_button, self.seek_slider, self.position_label):
            row.addWidget(widget)
        row.setStretch(1, 1)
        return player

    def _action(self, text, slot, shortcuts=(), checkable=False, tip=None):
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(key) for key in shortcuts])
        # Tool bar buttons show their shortcut in the tooltip, so the keys can be learnt there.
        keys = ", ".join(QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) for key in shortcuts)
        action.setToolTip(f"{tip or text.rstrip('.')}" + (f" ({keys})" if keys else ""))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _build_actions(self):
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 9)
        self.camera_index.setPrefix("camera ")
        self.camera_index.setToolTip("Index of the camera to open")
        self.stop_action = self._action("Stop", self.stop_stream, ["Esc"], tip="Stop the video or camera")
        self.pause_action = self._action("Pause", self.set_paused, ["Space"], checkable=True,
                                         tip="Pause or resume the video")
        self.play_button.setDefaultAction(self.pause_action)
        self.record_action = self._action("Record video...", self._on_record_toggled, ["Ctrl+R"], checkable=True,
                                          tip="Record the annotated video while it plays")
        self.save_action = self._action("Save image...", self._ask_save_image, ["Ctrl+S"],
                                        tip="Save the annotated image, beside the source")
        self.copy_action = self._action("Copy image", self.copy_image, [QKeySequence.StandardKey.Copy],
                                        tip="Copy the annotated image to the clipboard")
        self.export_action = self._action("Export CSV...", self._ask_export_csv, ["Ctrl+E"],
                                          tip="Export the results as CSV: per frame for video, per face for images")
        self.previous_action = self._action("Previous image", lambda: self._step_image(-1), ["Left", "PgUp"])
        self.next_action = self._action("Next image", lambda: self._step_image(1), ["Right", "PgDown"])
        self.teach_action = self._action("Teach...", lambda: self.open_teach(), ["Ctrl+T"],
                                         tip="Teach a model classes of your own: capture faces, train, save")
        groups = [[self._action("Open images...", self._ask_images, ["Ctrl+O"]),
                   self._action("Open folder...", self._ask_folder, ["Ctrl+Shift+O"]),
                   self._action("Open video...", self._ask_video, ["Ctrl+Shift+V"])],
                  [self.camera_index, self._action("Start camera", lambda: self.open_camera(), ["Ctrl+Shift+C"]),
                   self.stop_action],
                  [self.save_action, self.copy_action, self.record_action, self.export_action],
                  [self.teach_action]]
        toolbar = self.addToolBar("Main")
        menu = self.menuBar().addMenu("&File")
        for group in groups:
            for item in group:
                if isinstance(item, QAction):
                    toolbar.addAction(item)
                    menu.addAction(item)
                else:
                    toolbar.addWidget(item)
            toolbar.addSeparator()
            menu.addSeparator()
        menu.addAction(self._action("Quit", self.close, ["Ctrl+Q"]))
        self.present_action = self._action("Projection mode", self.set_present, ["F5"], checkable=True,
                                           tip="Large type, high contrast and large phase images, for a projector")
        view = self.menuBar().addMenu("&View")
        for action in (self.pause_action, self.previous_action, self.next_action, None, self.present_action):
            if action is None:
                view.addSeparator()
                continue
            view.addAction(action)
            self.addAction(action)      # their keys work with the menu closed and no tool bar button
        self.menuBar().addMenu("&Help").addAction(self._action("About fer_classic", self.show_about))

    def _update_actions(self):
        """Enable what can be done now: nothing opens a dialog only to say there is nothing to do."""
        shown = self.analysis is not None and not self._busy
        reading = self._reader is not None and self._reader.isRunning()
        file_open = reading and not self._reader.camera
        self.save_action.setEnabled(shown)
        self.copy_action.setEnabled(shown)
        self.export_action.setEnabled(self._exporter is None and (bool(self.records) or (
            bool(self._paths) and self._still_job is not None and not self._opening)))
        self.record_action.setEnabled(reading or self._recorder is not None)
        self.stop_action.setEnabled(reading and self.playback.running)
        # A file's reader outlives a stop and the end: Play replays it. A camera stopped is off.
        self.pause_action.setEnabled(file_open or (reading and self.playback.running))
        self.seek_slider.setEnabled(file_open and self.seek_slider.maximum() > 0)
        several = len(self._paths) > 1
        self.previous_action.setEnabled(several and self.thumbnails.currentRow() > 0)
        self.next_action.setEnabled(several and self.thumbnails.currentRow() < len(self._paths) - 1)
        self.pause_action.setText("Play" if self.pause_action.isChecked() else "Pause")

    def _set_title(self, name=None):
        self.setWindowTitle(f"{name} - {TITLE}" if name else TITLE)

    # ---------------------------------------------------------------- sources

    def open_paths(self, paths):
        """Open what was dropped or given on the command line: the first video, else the images and folders."""
        paths = [str(p) for p in paths]
        videos = [p for p in paths if is_video(p)]
        if videos:
            self.open_video(videos[0])
        elif paths:
            self.open_files(paths)

    def open_files(self, paths):
        """Show image files, and the images in folders, with a thumbnail strip to step through them.

        The first image that can be read is shown: unreadable files before it
        are stepped over (and marked in the strip). Videos inside folders are
        not images; the status bar says how many were left out.
        """
        images = list(expand_image_paths(paths))
        self._stop_sources()
        self._new_source()              # late results of what was shown before no longer count
        self.panel.show_video_settings(False)
        if not images:
            self._set_title()
            self._show_error(f"no images found in {', '.join(map(str, paths))}")
            return
        self._paths, self._opened_paths = images, [Path(p) for p in paths]
        self._folder_id = self._source_id
        self._opening, self._skipped = True, 0
        self.thumbnails.blockSignals(True)      # fill the strip quietly, then show the first image once
        self.thumbnails.clear()
        for path in images:
            item = QListWidgetItem(path.name)
            item.setToolTip(str(path))
            item.setSizeHint(THUMBNAIL_ITEM)    # its final size before its icon arrives: nothing to lay out again
            self.thumbnails.addItem(item)
        self.thumbnails.setCurrentRow(0)
        self.thumbnails.blockSignals(False)
        self.thumbnails.setVisible(len(images) > 1)
        self.timeline.hide()
        self.player.hide()
        self._thumbnail_loader = ThumbnailLoader(images, self._folder_id, size=THUMBNAIL_ICON.width(), parent=self)
        self._thumbnail_loader.thumbnail.connect(self._on_thumbnail)
        self._thumbnail_loader.unreadable.connect(self._on_unreadable_thumbnail)
        self._thumbnail_loader.start()
        self._show_still(0)

    def open_folder(self, folder):
        """Show the images in ``folder`` (recursively)."""
        self.open_files([folder])

    def open_video(self, path):
        """Play a video file, analysing as many frames as the model can keep up with."""
        self._start_stream(str(path))

    def open_camera(self, index=None):
        """Analyse a camera live; ``index`` defaults to the one chosen in the tool bar."""
        self._start_stream(self.camera_index.value() if index is None else int(index))

    def stop_stream(self):
        """Stop the video (Esc) where it is, to replay it with Play, or switch the camera off.

        The frame on screen stays, and settings still apply to it.
        """
        message = self.playback.stop()
        if message is None:
            return
        if self._reader.camera:
            self._reader.stop()
        else:
            self._reader.set_paused(True)
        self._set_paused_quietly(True)
        self.stop_recording()
        self._info(message, timeout=0)
        self._update_actions()
        self.stream_finished.emit()

    def set_paused(self, paused):
        """Pause or resume the video (Space); after a stop or the end, Play plays it again from the start."""
        if self._reader is None or not self._reader.isRunning():
            self._set_paused_quietly(False)
            return
        if self.playback.set_paused(paused):
            if self._reader.camera:
                return
            self.playback.replay()
            self._jump(0)
            self._info(f"playing {self.playback.label} again")     # "finished" or "stopped" no longer holds
        self._reader.set_paused(paused)
        self._set_paused_quietly(paused)
        self._update_actions()

    def seek(self, frame):
        """Jump to ``frame`` of the video: it is read and analysed next, playing or paused; a new pass starts."""
        if self._reader is None or self._reader.camera or not self._reader.isRunning():
            return
        self.playback.seek(frame)
        self._jump(frame)

    def _jump(self, frame):
        self._reader.seek(frame, self._new_source())
        self.timeline.truncate(frame / self.playback.fps)
        self._show_position(frame)

    def _new_source(self):
        self._source_id += 1
        self._selected_id = None
        self._error_message = None      # the user moved on
        return self._source_id

    def _stop_sources(self):
        for thread in (self._reader, self._thumbnail_loader, self._exporter):
            if thread is not None:
                thread.stop()
                thread.deleteLater()
        self._reader, self._thumbnail_loader, self._exporter, self._still_job = None, None, None, None
        self._paths, self._stream_job = [], None
        self.stop_recording()           # the next source may have another frame size
        self.playback.close()
        self._set_paused_quietly(False)
        self._set_busy("")

    def _show_still(self, row):
        if not 0 <= row < len(self._paths):
            return
        path = self._paths[row]
        self._still_job = FrameJob(self._new_source(), path.name, path=str(path))
        self._set_title(path.name)
        self._submit(self._still_job)

    def _step_image(self, step):
        row = self.thumbnails.currentRow() + step
        if 0 <= row < len(self._paths):
            self.thumbnails.setCurrentRow(row)

    def _submit(self, job):
        """Hand ``job`` to the worker, showing the old result as out of date until the new one comes."""
        self.worker.submit(job)
        self._awaiting = True
        model = self.panel.settings().model_label
        self._set_busy(f"analysing {job.label}..." if self.worker.has_model(model) else f"loading {model}...")

    def _start_stream(self, source):
        self._stop_sources()
        self.thumbnails.hide()
        self.panel.show_video_settings(True)
        self.timeline.clear()
        self.timeline.show()
        self._stream_id = self._new_source()      # the id the reader starts with; a jump gives the next ones
        self._reader = FrameReader(source, self._stream_id, self.worker.submit, parent=self)
        self._reader.opened.connect(self._on_stream_opened)
        self._reader.failed.connect(self._on_stream_failed)
        self._reader.at_end.connect(self._on_stream_at_end)
        self._reader.ended.connect(self._on_stream_ended)
        self._reader.finished.connect(self._update_actions)     # the thread is over: no more pause or jump
        # A model still loading holds the video at its first frame: no frame passes unanalysed.
        ready = self.worker.has_model(self.panel.settings().model_label)
        self._reader.set_held(not ready)
        self._reader.start()
        self.playback.open(self._reader.label, self._reader.camera, ready)
        self._set_title(self._reader.label)
        self.player.setVisible(not self._reader.camera)
        self._show_position(0, count=0)
        self._info(f"opening {self._reader.label}...")

    def _on_thumbnail(self, folder_id, row, image):
        if folder_id == self._folder_id and row < self.thumbnails.count():
            self.thumbnails.item(row).setIcon(QIcon(QPixmap.fromImage(image)))

    def _on_unreadable_thumbnail(self, folder_id, row, message):
        if folder_id == self._folder_id and row < self.thumbnails.count():
            item = self.thumbnails.item(row)
            item.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
            item.setToolTip(message)

    def _on_stream_opened(self, source_id, fps, count):
        if source_id != self._stream_id:
            return                      # from a reader since replaced
        self.playback.opened(fps, count)
        self._show_position(0, count)
        length = f", {clock(count / fps)}" if count else ""
        self._info(f"playing {self._reader.label} ({fps:.0f} fps{length})")

    def _on_stream_failed(self, source_id, message):
        if source_id == self._source_id:
            self.timeline.hide()
            self.player.hide()
            self._show_error(message)

    def _on_stream_at_end(self, source_id, last_frame):
        # The reader waits at the end of the file, paused: Space plays it again, the seek bar jumps back.
        if source_id == self._source_id:
            self._set_paused_quietly(True)
            self._on_stream_ended(source_id, last_frame)

    def _on_stream_ended(self, source_id, last_frame):
        # The end of a file, the camera gone, or nothing decodable.
        if source_id == self._source_id and self.playback.at_end(last_frame):
            self._on_finished()

    def _on_finished(self):
        self.stop_recording()
        summary = self.playback.summary()       # "" when the reader has reported why nothing was read
        if summary:
            self._info(summary, timeout=0)
        self._update_actions()
        self.stream_finished.emit()

    def _show_position(self, frame, count=None):
        """Show ``frame`` on the seek bar (and the video's ``count`` of frames, when given)."""
        self.seek_slider.blockSignals(True)         # moved by the video, not by the user: no jump
        if count is not None:
            self.seek_slider.setRange(0, max(0, count - 1))
            self.seek_slider.setPageStep(max(1, round(self.playback.fps * 5)))     # a click on the bar: 5 s
        if not self.seek_slider.isSliderDown():
            self.seek_slider.setValue(frame)
        self.seek_slider.blockSignals(False)
        self._show_time(frame)
        self._update_actions()

    def _show_time(self, frame):
        fps = self.playback.fps
        total = (self.seek_slider.maximum() + 1) / fps if self.seek_slider.maximum() else 0
        self.position_label.setText(f"{clock(frame / fps)} / {clock(total)}" if total else clock(frame / fps))

    def _on_slider_moved(self, frame):
        # Dragging previews the time; the jump happens on release. A click or a key on the bar jumps now.
        self._show_time(frame)
        if not self.seek_slider.isSliderDown():
            self.seek(frame)

    # ------------------------------------------------------------------ busy

    def _set_busy(self, text):
        """Show that the worker is busy for the user (``text``), dimming the result; "" when it is not."""
        self._busy = text
        self.busy_bar.setVisible(bool(text))
        self.view.set_busy(text)
        if text:
            self.result.clear(text)
            self.timing_label.clear()
            self._info(text, timeout=0)
        elif self.analysis is None and self._error_message is None:
            self.result.clear(NOTHING_SHOWN)        # no "loading..." left behind once the model is ready
        self._update_actions()

    def _on_model_loading(self, name):
        if self._reader is not None:
            self._reader.set_held(True)
        self.playback.model_loading()
        if self._error_message is None:     # an error on display stays until the user does something
            self._set_busy(f"loading {name}...")

    def _on_model_ready(self, name):
        if self._reader is not None:
            self._reader.set_held(False)
        self.playback.model_ready()
        self.result.set_classes(self.worker.classes(name))      # a model trained on other classes has other rings
        # Still busy while the image or video waits for its first result with this model.
        self._set_busy(f"analysing with {name}..." if self._awaiting or self.playback.running else "")
        self._info(f"model {name} ready")

    # ---------------------------------------------------------------- results

    def _on_analyzed(self, analysis):
        job = analysis.job
        if job.source_id != self._source_id or analysis.settings.results_key != self.panel.settings().results_key:
            return                      # for a source no longer shown, or made with settings since changed
        self.analysis, self._awaiting = analysis, False
        self._set_busy("")
        self._render()
        if job.stream:
            self._stream_job = job
            self._add_to_stream(analysis)
        else:
            self._show_still_message(analysis)
        self.analysis_shown.emit(analysis)
        if job.stream and self.playback.shown(job.frame):
            self._on_finished()
        self._update_actions()

    def _show_still_message(self, analysis):
        if self._opening:
            self._opening = False
            folder_videos = videos_in(self._opened_paths)
            notes = [f"{self._skipped} unreadable file(s) skipped" if self._skipped else "",
                     f"{folder_videos} video(s) in the folder left out: open them with Open video"
                     if folder_videos else ""]
            notes = "; ".join(filter(None, notes))
            if notes:
                self._info(f"{len(self._paths)} file(s): {notes}", timeout=0)
                return
        label = analysis.job.label
        if len(self._paths) > 1:
            label += f" ({self.thumbnails.currentRow() + 1} of {len(self._paths)})"
        if overlapping(analysis.faces):
            self._info(f"{label}: {len(analysis.faces)} faces, some inside others: the detector probably found "
                       "faces that are not there; try another detector or a larger minNeighbors", timeout=0)
        elif analysis.faces:
            self._info(f"{label}: {len(analysis.faces)} face(s), model {analysis.model}")
        else:
            self._info(f"no face found in {label}", timeout=0)

    def _on_load_failed(self, label, message):
        # A runtime the user chose cannot run (TensorFlow not installed...): back to the previous choice, said.
        settings = self.panel.settings()
        if settings.runtime is None or settings.model_label != label:
            return
        previous = self.panel.previous_runtime
        self.panel.set_runtime(previous)
        self.worker.configure(self.panel.settings())
        self._fallback = f"{label}: {message.splitlines()[0]}; back to runtime {previous or 'default (measured)'}"

    def _on_failed(self, job, message):
        if self._fallback is not None:          # the job failed on a runtime since given up: again, with the previous
            self._error(self._fallback)
            self._fallback, self._awaiting = None, False
            if self._reader is not None:
                self._reader.set_held(False)
            self._analyse_again()
            return
        if job is None:                 # the model loaded at start-up failed: let a held video go on to say so
            if self._reader is not None:
                self._reader.set_held(False)
        elif job.source_id != self._source_id:
            return                      # about an image no longer shown
        self._awaiting = False
        row = self.thumbnails.currentRow()
        if job is not None and not job.stream and self._opening and row + 1 < len(self._paths):
            self._skipped += 1          # opening a folder: step over what cannot be read to the first image
            self.thumbnails.setCurrentRow(row + 1)
            return
        self._opening = False
        self._set_busy("")
        self._show_error(message)
        if job is not None and job.stream and self.playback.shown(job.frame):
            self._on_finished()

    def _add_to_stream(self, analysis):
        job = analysis.job
        # Kept in the pass, not yet counted as shown: the caller says so once the result is drawn.
        self.playback.record(job.frame, round(job.time, 3), [{key: face[key] for key in RECORD_KEYS}
                                                             for face in analysis.faces], analysis.model)
        face = self._selected_face()
        # A new pass (a jump, another model) starts a new line: one model's values never join another's.
        self.timeline.add(job.time, face["probabilities"] if face else None, self.playback.current.number)
        self._show_position(job.frame)
        if self._recorder is not None:
            try:
                self._recorder.write(self.canvas(), job.frame, self.playback.fps)
            except VideoError as error:
                self._error(str(error))
                self.stop_recording(keep=False)

    def _face_ids(self):
        faces = self.analysis.faces if self.analysis else []
        return [face.get("face_id", i) for i, face in enumerate(faces)]

    def _selected_index(self):
        # The face chosen by a click while it is still there, else the most confident one.
        ids = self._face_ids()
        if self._selected_id in ids:
            return ids.index(self._selected_id)
        if not ids:
            return None
        faces = self.analysis.faces
        best = max(range(len(faces)), key=lambda i: max(faces[i]["probabilities"].values()))
        if self.analysis.job.stream:
            self._selected_id = ids[best]       # a video follows that face (by track id) from then on
        return best

    def _selected_face(self):
        index = self._selected_index()
        return None if index is None else self.analysis.faces[index]

    def select_face(self, index):
        """Show the probabilities of face ``index`` (0 is the largest) of the current frame."""
        ids = self._face_ids()
        if 0 <= index < len(ids):
            self._selected_id = ids[index]
            self._render()

    def _on_view_clicked(self, x, y):
        faces = self.analysis.faces if self.analysis else []
        hits = [i for i, face in enumerate(faces)
                if face["box"][0] <= x < face["box"][0] + face["box"][2]
                and face["box"][1] <= y < face["box"][1] + face["box"][3]]
        if hits:
            self.select_face(min(hits, key=lambda i: faces[i]["box"][2]))    # the innermost of nested boxes

    def _render(self):
        if self.analysis is None or self._busy:
            return
        overlays, faces = self.panel.overlays(), self.analysis.faces
        index = self._selected_index()
        self.view.set_frame(to_qimage(self.analysis.frame), faces, index, overlays)
        if index is None:
            self.result.clear("No face found")
        else:
            self.result.show_face(faces[index], index, len(faces), overlays.hog, overlays.lbp)
        self.result.phase_images.setVisible(bool(self.panel.features() & {"hog", "lbp"}))
        timings = self.analysis.timings
        times = {phase: f"{phase} {timings.get(phase, 0.0) * 1000:.1f} ms" for phase in ("detect", "extract",
                                                                                          "classify")}
        if getattr(self.panel.models.get(self.analysis.model), "kind", None) == "cnn":
            times["extract"] = "extract: inside the network"   # a CNN's features are its own layers, timed in classify
        self.timing_label.setVisible(overlays.timings)
        self.timing_label.setText("   ".join(times.values()))

    def _show_error(self, message):
        # Errors replace results: nothing of the previous image may look like the answer for this one.
        self.analysis = None
        self.view.show_message(f"Error: {message}", error=True)
        self.result.clear("No result")
        self.timing_label.clear()
        self._error(message)
        self._update_actions()

    def canvas(self):
        """The frame as saved and recorded (BGR), overlays drawn at image resolution; None with no frame shown."""
        if self.analysis is None:
            return None
        return render_frame(self.analysis.frame, self.analysis.faces, self.panel.overlays(), self._selected_index())

    def _on_analysis_changed(self):
        self._error_message = None      # a new attempt
        self.worker.configure(self.panel.settings())
        self.result.phase_images.setVisible(bool(self.panel.features() & {"hog", "lbp"}))
        self._analyse_again()

    def _analyse_again(self):
        """After a setting changed: analyse what is shown again, or load the model to have it ready."""
        label = self.panel.settings().model_label
        if self._still_job is not None:
            self._submit(self._still_job)       # same source id: the new result replaces the old
        elif self._stream_job is not None and not self._playing():
            # Paused, stopped or at the end: nothing new will come, so the frame on screen is analysed again.
            self._submit(dataclasses.replace(self._stream_job, source_id=self._source_id))
        elif self._playing() and not self.worker.has_model(label):
            self._set_busy(f"loading {label}...")
        elif self._reader is None and not self._paths and label and not self.worker.has_model(label):
            self.worker.preload()           # nothing open: the model is ready when something is

    def _playing(self):
        return self._reader is not None and self._reader.isRunning() and self.playback.state in (PLAYING, LOADING)

    def _on_display_changed(self):
        self.worker.configure(self.panel.settings())
        self._render()

    # ------------------------------------------------------------ teach mode

    def open_teach(self, **options):
        """Open teach mode (Ctrl+T), or bring it back as it was left; returns its dialog.

        ``options`` go to :class:`~fer_classic.gui.teach.TeachDialog` when it is
        first made (``method``, ``frame_source``); it finds faces with the
        detector chosen here. A model it saves is used here at once (:meth:`use_model`).
        """
        if self._teach is None:
            from .teach import TeachDialog     # its library (training, saving) loads only when it is wanted

            self._teach = TeachDialog(self, detector=self.panel.settings().detector,
                                      camera_index=self.camera_index.value(), **options)
            self._teach.model_saved.connect(self.use_model)
            # One camera, one reader: teach mode's camera stops the window's.
            self._teach.camera_starting.connect(
                lambda: self.stop_stream() if self._reader is not None and self._reader.camera else None)
        self._teach.show()
        self._teach.raise_()
        self._teach.activateWindow()
        return self._teach

    def use_model(self, name):
        """Classify with model ``name`` from now on, listing it if it is new (a model teach mode saved).

        A model saved again under the name in use is loaded again. Returns False
        when no model of that name can be listed.
        """
        models = self._read_models()
        if name not in models:
            return False
        panel, combo = self.panel, self.panel.model
        panel.models[name] = models[name]
        if combo.findData(name) < 0:        # among the trained models, sorted, before the untrained ones
            combo.insertItem(next((i for i in range(combo.count()) if not combo.model().item(i).isEnabled()
                                   or str(combo.itemData(i)) > name), combo.count()), name, name)
        self.worker.forget(name)                    # a file replaced: the worker loads it afresh
        if combo.currentData() == name:
            panel.refresh_model()
            return True
        return panel.select_model(name)

    # ------------------------------------------------------------------ about

    def show_about(self):
        """Help > About: the version, the models with their accuracy, where models are kept, and links."""
        models = "".join(f"<li>{name}: {accuracy_text(entry)}</li>" for name, entry in self.panel.models.items())
        self.about_box = QMessageBox(QMessageBox.Icon.Information, "About fer_classic", "",
                                     QMessageBox.StandardButton.Ok, self)
        self.about_box.setTextFormat(Qt.TextFormat.RichText)
        self.about_box.setText(
            f"<b>fer_classic {__version__}</b>: facial expressions in three phases (detect, extract, classify)."
            f"<p>Models:<ul>{models}</ul></p>"
            f"<p>Shipped models: {shipped_models_dir()}<br>Yours: {user_models_dir()}</p>"
            f"<p>Documentation: docs/usage.md (Desktop app) beside the source, and <code>fer-classic --help</code>."
            f"<br>FER2013: <a href='{FER2013_URL}'>the Kaggle challenge's data</a></p>")
        self.about_box.setModal(False)          # no modal dialogs: the window keeps running
        self.about_box.show()
        return self.about_box

    # ---------------------------------------------------------------- dialogs

    def _ask_images(self):
        pattern = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", "", f"Images ({pattern});;All files (*)")
        if paths:
            self.open_files(paths)

    def _ask_folder(self):
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images")
        if folder:
            self.open_folder(folder)

    def _ask_video(self):
        pattern = " ".join(f"*{suffix}" for suffix in VIDEO_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open a video", "", f"Videos ({pattern});;All files (*)")
        if path:
            self.open_video(path)

    # ------------------------------------------------------------------ misc

    @staticmethod
    def _set_quietly(action, checked):
        # Reflect the state without running the toggled handler (which would open a dialog).
        action.blockSignals(True)
        action.setChecked(checked)
        action.blockSignals(False)

    def _set_paused_quietly(self, paused):
        self._set_quietly(self.pause_action, paused)
        self.pause_action.setText("Play" if paused else "Pause")

    def _info(self, message, timeout=INFO_MS):
        if self._error_message is None:
            self.statusBar().showMessage(message, timeout)

    def _error(self, message):
        self._error_message = message
        self.statusBar().showMessage(f"Error: {message}")

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        self.open_paths(url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile())
        event.acceptProposedAction()

    def closeEvent(self, event):
        self._shut_down()
        super().closeEvent(event)

    def event(self, event):
        # Destroyed from outside (no close first): stop reading and analysing, or the process works on unseen.
        # The native window is marked gone before its surface's last event (PySide2 cannot read the event's type).
        if event.type() == QEvent.Type.PlatformSurface and not self.testAttribute(Qt.WidgetAttribute.WA_WState_Created):
            self._shut_down()
        return super().event(event)

    def _shut_down(self):
        if self._settings is not None:
            self._settings.setValue("panel", json.dumps(self.panel.state()))
            self._settings.setValue("window", json.dumps({"geometry": self.saveGeometry().toHex().data().decode(),
                                                          "present": self.present_action.isChecked()}))
            self._settings.sync()
        if self._teach is not None:
            self._teach.shutdown()
        self._stop_sources()
        # At once, whatever is loading: a model's load (seconds) is not waited for; the thread ends after it.
        self.worker.stop(wait=False)
        if self.worker.isRunning():
            self.worker.setParent(None)         # not deleted with the window while it runs
            _DETACHED.add(self.worker)
            self.worker.finished.connect(lambda worker=self.worker: _DETACHED.discard(worker))
