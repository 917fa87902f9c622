"""The main window: sources in, annotated frames and probabilities out.

The window only moves data around. Images and frames go to the
:class:`~fer_classic.gui.worker.AnalysisWorker` (recognition, in its own
thread); its results come back as signals and are drawn here. Every source
(an image, a video, the camera) gets a new *source id*: a result stamped with
an older one arrived too late and is ignored.

Errors replace results: the view shows the error where the picture was, the
rings are cleared, and the status bar keeps the error until the user does
something (passing messages, such as a model being ready, do not replace it).
There are no modal dialogs, and the window keeps running.
"""

from __future__ import annotations

from qtpy.QtCore import QSize, Qt, Signal
from qtpy.QtGui import QAction, QIcon, QPixmap
from qtpy.QtWidgets import (QFileDialog, QLabel, QListView, QListWidget, QListWidgetItem, QMainWindow,
                            QScrollArea, QSpinBox, QSplitter, QStyle, QVBoxLayout, QWidget)

from ..pipeline import IMAGE_SUFFIXES, expand_image_paths
from ..store import ModelError, list_models
from ..video import TimelineWriter, VideoError
from .controls import SidePanel
from .recorder import VideoRecorder
from .render import render_frame, to_qimage
from .sources import FALLBACK_FPS, VIDEO_SUFFIXES, FrameReader, ThumbnailLoader, is_video
from .widgets import FrameView, ResultPanel, TimelinePlot
from .worker import AnalysisWorker, FrameJob

RECORD_KEYS = ("face_id", "box", "emotion", "probabilities")    # what a CSV row needs of a face
INFO_MS = 5000                                                  # how long passing messages stay


class MainWindow(QMainWindow):
    """Facial-expression recognition on images, folders, videos and the camera.

    Attributes
    ----------
    analysis : Analysis or None
        The result on display.
    records : list of dict
        One per analysed frame of the current video or camera stream, as
        :func:`fer_classic.video.analyze_video` yields them; exported by
        :meth:`export_csv`.
    """

    analysis_shown = Signal(object)     # Analysis, once drawn
    stream_finished = Signal()          # a video or camera stream ended and its last frame was shown

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("fer_classic: facial expressions in three phases")
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.analysis, self.records = None, []
        self._error_message = None      # the error on display, until the user does something
        self._source_id = 0
        self._folder_id, self._paths, self._still_job = None, [], None
        self._selected_id = None        # face_id (streams) or index (images) of the face in the panel
        self._reader, self._thumbnail_loader, self._recorder = None, None, None
        self._streaming = False         # a video or camera is between start and finish
        self._stream_fps, self._end_frame, self._last_frame = FALLBACK_FPS, None, -1

        self.result = ResultPanel()
        self.panel = SidePanel(self._read_models(), self.result)
        self._build_views()
        self._build_actions()
        self.worker = AnalysisWorker(self.panel.settings(), self)
        self.worker.analyzed.connect(self._on_analyzed)
        self.worker.failed.connect(self._on_failed)
        self.worker.message.connect(self._info)     # model loading: passing, never over an error
        self.panel.analysis_changed.connect(self._on_analysis_changed)
        self.panel.display_changed.connect(self._on_display_changed)
        self.worker.start()

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
        self.thumbnails.setIconSize(QSize(96, 96))
        self.thumbnails.setFixedHeight(136)
        self.thumbnails.currentRowChanged.connect(self._show_still)
        self.thumbnails.hide()
        self.timeline = TimelinePlot()
        self.timeline.setFixedHeight(150)
        self.timeline.hide()
        self.timing_label = QLabel()

        left = QWidget()
        column = QVBoxLayout(left)
        for widget in (self.view, self.thumbnails, self.timeline, self.timing_label):
            column.addWidget(widget)
        column.setStretch(0, 1)

        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # As wide as the panel needs with the fonts in use: no horizontal scrolling, nothing cut off.
        scroll.setMinimumWidth(self.panel.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                               + 2 * scroll.frameWidth())

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        self.setCentralWidget(splitter)

    def _action(self, text, slot, shortcut=None, checkable=False):
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(shortcut)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _build_actions(self):
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 9)
        self.camera_index.setPrefix("camera ")
        self.camera_index.setToolTip("Index of the camera to open")
        self.stop_action = self._action("Stop", self.stop_stream)
        self.stop_action.setEnabled(False)
        self.record_action = self._action("Record video...", self._on_record_toggled, checkable=True)
        groups = [[self._action("Open images...", self._ask_images, "Ctrl+O"),
                   self._action("Open folder...", self._ask_folder, "Ctrl+Shift+O"),
                   self._action("Open video...", self._ask_video, "Ctrl+Shift+V")],
                  [self.camera_index, self._action("Start camera", lambda: self.open_camera()), self.stop_action],
                  [self._action("Save image...", self._ask_save_image, "Ctrl+S"), self.record_action,
                   self._action("Export CSV...", self._ask_export_csv)]]
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
        menu.addAction(self._action("Quit", self.close, "Ctrl+Q"))

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
        """Show image files, and the images in folders, with a thumbnail strip to step through them."""
        images = list(expand_image_paths(paths))
        if not images:
            self._stop_sources()
            self._new_source()          # late results of what was shown before no longer count
            self._show_error(f"no images found in {', '.join(map(str, paths))}")
            return
        self._stop_sources()
        self._paths = images
        self._folder_id = self._new_source()
        self.thumbnails.blockSignals(True)      # fill the strip quietly, then show the first image once
        self.thumbnails.clear()
        for path in images:
            self.thumbnails.addItem(QListWidgetItem(path.name))
        self.thumbnails.setCurrentRow(0)
        self.thumbnails.blockSignals(False)
        self.thumbnails.setVisible(len(images) > 1)
        self.timeline.hide()
        self._thumbnail_loader = ThumbnailLoader(images, self._folder_id, parent=self)
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
        """Stop the video or camera; the last frame read is still analysed."""
        if self._reader is not None:
            self._reader.stop()

    def _new_source(self):
        self._source_id += 1
        self._selected_id = None
        self._error_message = None      # the user moved on
        return self._source_id

    def _stop_sources(self):
        for thread in (self._reader, self._thumbnail_loader):
            if thread is not None:
                thread.stop()
                thread.deleteLater()
        self._reader, self._thumbnail_loader, self._still_job = None, None, None
        if self._streaming:
            self.stop_recording()       # the next source may have another frame size
        self._set_streaming(False)

    def _set_streaming(self, streaming):
        self._streaming = streaming
        self._end_frame = None
        self.stop_action.setEnabled(streaming)

    def _show_still(self, row):
        if not 0 <= row < len(self._paths):
            return
        path = self._paths[row]
        self._still_job = FrameJob(self._new_source(), path.name, path=str(path))
        self.worker.submit(self._still_job)
        self._info(f"analysing {path.name}...")

    def _start_stream(self, source):
        self._stop_sources()
        self._paths = []
        self.thumbnails.hide()
        self.timeline.clear()
        self.timeline.show()
        self.records, self._last_frame, self._stream_fps = [], -1, FALLBACK_FPS
        self._reader = FrameReader(source, self._new_source(), self.worker.submit, parent=self)
        self._reader.opened.connect(self._on_stream_opened)
        self._reader.failed.connect(self._on_stream_failed)
        self._reader.ended.connect(self._on_stream_ended)
        self._reader.start()
        self._set_streaming(True)
        self._info(f"opening {self._reader.label}...")

    def _on_thumbnail(self, folder_id, row, image):
        if folder_id == self._folder_id:
            self.thumbnails.item(row).setIcon(QIcon(QPixmap.fromImage(image)))

    def _on_unreadable_thumbnail(self, folder_id, row, message):
        if folder_id == self._folder_id:
            item = self.thumbnails.item(row)
            item.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
            item.setToolTip(message)

    def _on_stream_opened(self, source_id, fps):
        if source_id == self._source_id:
            self._stream_fps = fps
            self._info(f"playing {self._reader.label} ({fps:.0f} fps)")

    def _on_stream_failed(self, source_id, message):
        if source_id == self._source_id:
            self.timeline.hide()
            self._show_error(message)

    def _on_stream_ended(self, source_id, last_frame):
        if source_id == self._source_id:
            self._end_frame = last_frame
            self._finish_stream_if_done()

    def _finish_stream_if_done(self):
        if self._end_frame is None or self._last_frame < self._end_frame:
            return
        self.stop_recording()
        if self._end_frame >= 0:        # else the reader has reported why nothing was read
            self._info(f"{self._reader.label} finished: {len(self.records)} of {self._end_frame + 1} frames "
                       "analysed (the others were skipped to keep up)", timeout=0)
        self._set_streaming(False)
        self.stream_finished.emit()

    # ---------------------------------------------------------------- results

    def _on_analyzed(self, analysis):
        job = analysis.job
        if job.source_id != self._source_id:
            return
        self.analysis = analysis
        self._render()
        if job.stream:
            self._add_to_stream(analysis)
        elif analysis.faces:
            self._info(f"{job.label}: {len(analysis.faces)} face(s), model {analysis.model}")
        else:
            self._info(f"no face found in {job.label}", timeout=0)
        self.analysis_shown.emit(analysis)
        if job.stream:
            self._last_frame = job.frame
            self._finish_stream_if_done()

    def _on_failed(self, job, message):
        if job is not None and job.source_id != self._source_id:
            return                      # about an image no longer shown
        self._show_error(message)
        if job is not None and job.stream:
            self._last_frame = job.frame
            self._finish_stream_if_done()

    def _add_to_stream(self, analysis):
        job = analysis.job
        self.records.append({"frame": job.frame, "time": job.time,
                             "faces": [{key: face[key] for key in RECORD_KEYS} for face in analysis.faces]})
        face = self._selected_face()
        self.timeline.add(job.time, face["probabilities"] if face else None)
        if self._recorder is not None:
            try:
                self._recorder.write(self.canvas(), job.frame, self._stream_fps)
            except VideoError as error:
                self._error(str(error))
                self.stop_recording()

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
        if self.analysis is None:
            return
        overlays, faces = self.panel.overlays(), self.analysis.faces
        index = self._selected_index()
        self.view.set_frame(to_qimage(self.analysis.frame), faces, index, overlays)
        if index is None:
            self.result.clear("No face found")
        else:
            self.result.show_face(faces[index], index, len(faces), overlays.hog, overlays.lbp)
        timings = self.analysis.timings
        self.timing_label.setVisible(overlays.timings)
        self.timing_label.setText("   ".join(f"{phase} {timings.get(phase, 0.0) * 1000:.1f} ms"
                                            for phase in ("detect", "extract", "classify")))

    def _show_error(self, message):
        # Errors replace results: nothing of the previous image may look like the answer for this one.
        self.analysis = None
        self.view.show_message(f"Error: {message}", error=True)
        self.result.clear("No result")
        self.timing_label.clear()
        self._error(message)

    def canvas(self):
        """The frame as saved and recorded (BGR), overlays drawn at image resolution; None with no frame shown."""
        if self.analysis is None:
            return None
        return render_frame(self.analysis.frame, self.analysis.faces, self.panel.overlays(), self._selected_index())

    def _on_analysis_changed(self):
        self._error_message = None      # a new attempt
        self.worker.configure(self.panel.settings())
        if self._still_job is not None:
            self.worker.submit(self._still_job)     # same source id: the new result replaces the old

    def _on_display_changed(self):
        self.worker.configure(self.panel.settings())
        self._render()

    # ----------------------------------------------------------------- output

    def save_image(self, path):
        """Save the frame with its overlays (drawn at image resolution); returns True on success."""
        self._error_message = None
        canvas = self.canvas()
        if canvas is None:
            self._error("nothing to save yet: open an image first")
            return False
        if not to_qimage(canvas).save(str(path)):
            self._error(f"{path}: cannot save (unknown image format or unwritable folder)")
            return False
        self._info(f"saved {path}")
        return True

    def start_recording(self, path):
        """Record the annotated frames of the video or camera to ``path`` (.avi or .mp4) until stopped."""
        self.stop_recording()
        self._error_message = None
        self._recorder = VideoRecorder(path)
        self._set_quietly(self.record_action, True)
        self._info(f"recording to {path} while a video or the camera plays")

    def stop_recording(self):
        """Finish the recording, if one is running."""
        if self._recorder is None:
            return
        recorder, self._recorder = self._recorder, None
        recorder.close()
        self._set_quietly(self.record_action, False)
        self._info(f"saved {recorder.frames_written} frames to {recorder.path}" if recorder.frames_written
                   else "recording stopped: no frames were played")

    def export_csv(self, path):
        """Write the current stream's per-frame probabilities (one row per frame and face); True on success."""
        self._error_message = None
        if not self.records:
            self._error("nothing to export yet: play a video or the camera first")
            return False
        try:
            writer = TimelineWriter(path)
        except OSError as error:
            self._error(f"{path}: cannot write ({error.strerror or error})")
            return False
        try:
            for record in self.records:
                writer.write(record)
        finally:
            writer.close()
        self._info(f"wrote {len(self.records)} frames to {path}")
        return True

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

    def _ask_save_image(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save the annotated image", "annotated.png",
                                              "Images (*.png *.jpg *.bmp)")
        if path:
            self.save_image(path)

    def _on_record_toggled(self, checked):
        if not checked:
            self.stop_recording()
            return
        path, _ = QFileDialog.getSaveFileName(self, "Record the annotated video", "annotated.avi",
                                              "Videos (*.avi *.mp4)")
        if path:
            self.start_recording(path)
        else:
            self._set_quietly(self.record_action, False)

    def _ask_export_csv(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export per-frame probabilities", "timeline.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    # ------------------------------------------------------------------ misc

    @staticmethod
    def _set_quietly(action, checked):
        # Reflect the state without running the toggled handler (which would open a dialog).
        action.blockSignals(True)
        action.setChecked(checked)
        action.blockSignals(False)

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
        self._stop_sources()
        self.worker.stop()
        super().closeEvent(event)

