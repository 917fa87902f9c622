"""What the window writes: the annotated image (saved or copied), the recorded video, and CSV files.

:class:`OutputActions` is a part of :class:`~fer_classic.gui.window.MainWindow`
(a mixin): it uses the window's result on display (``canvas()``), its
records, its status bar (``_info``, ``_error``) and its actions. What is
written, and where by default, is :mod:`.export`'s and :mod:`.recorder`'s.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QApplication, QFileDialog

from ..imageio import ImageError, write_image
from ..video import VideoError
from .export import BatchExporter, default_output, write_timeline
from .recorder import VideoRecorder
from .render import to_qimage


class OutputActions:
    """Save, copy, record and export, for :class:`~fer_classic.gui.window.MainWindow`."""

    def _source_path(self):
        """The file or folder shown, for default output names; None for a camera or nothing."""
        if self._still_job is not None:
            return Path(self._still_job.path)
        if self._reader is not None and not self._reader.camera:
            return Path(self._reader.source)
        return None

    def save_image(self, path):
        """Save the frame with its overlays (drawn at image resolution), whole or not at all; True on success."""
        self._error_message = None
        canvas = self.canvas()
        if canvas is None:
            self._error("nothing to save yet: open an image first")
            return False
        try:
            write_image(path, canvas)
        except ImageError as error:
            self._error(str(error))
            return False
        self._info(f"saved {path}")
        return True

    def copy_image(self):
        """Put the annotated frame (as :meth:`save_image` saves it) on the clipboard."""
        canvas = self.canvas()
        if canvas is not None:
            QApplication.clipboard().setImage(to_qimage(canvas))
            self._info("annotated image copied to the clipboard")

    def start_recording(self, path):
        """Record the annotated frames of the video or camera to ``path`` (.avi or .mp4) until stopped."""
        self.stop_recording()
        self._error_message = None
        try:
            self._recorder = VideoRecorder(path)
        except VideoError as error:
            self._error(str(error))
            self._set_quietly(self.record_action, False)
            return
        self._set_quietly(self.record_action, True)
        self.recording_label.show()
        self._info(f"recording to {path} while the video or the camera plays")
        self._update_actions()

    def stop_recording(self, keep=True):
        """Finish the recording, if one is running, and give the file its name (``keep``) or remove it."""
        if self._recorder is None:
            return
        recorder, self._recorder = self._recorder, None
        self.recording_label.hide()
        try:
            recorder.close(keep)
        except OSError as error:
            self._error(f"{recorder.path}: cannot save the recording ({error.strerror or error})")
        else:
            if keep:
                self._info(f"saved {recorder.frames_written} frames to {recorder.path}" if recorder.frames_written
                           else "recording stopped: no frames were played")
        self._set_quietly(self.record_action, False)
        self._update_actions()

    def export_csv(self, path):
        """Write the results as CSV; True once written (images: when :attr:`export_finished` says so).

        A video's or the camera's frames give one row per frame and face, as
        ``fer-classic video --csv``; images and folders one row per face of
        every image, as ``fer-classic batch``, analysed in the background.
        """
        self._error_message = None
        if self.records:
            current = self.playback.current
            try:
                write_timeline(path, self.records)
            except OSError as error:
                self._error(str(error))
                return False
            self._info(f"wrote {len(self.records)} frames of pass {current.number} ({current.model}, from frame "
                       f"{current.first_frame + 1}) to {path}")
            return True
        if self._paths:
            self._exporter = BatchExporter(self._paths, path, self.panel.settings(), parent=self)
            self._exporter.progress.connect(lambda done, total: self._info(f"exporting: {done} of {total} images"))
            self._exporter.done.connect(self._on_export_done)
            self._exporter.failed.connect(self._on_export_failed)
            self._exporter.start()
            self._update_actions()
            return True
        self._error("nothing to export yet: open images, a video or the camera first")
        return False

    def _on_export_done(self, path, rows):
        self._end_export()
        self._info(f"wrote {rows} rows to {path}", timeout=0)
        self.export_finished.emit(True)

    def _on_export_failed(self, message):
        self._end_export()
        self._error(message)
        self.export_finished.emit(False)

    def _end_export(self):
        if self._exporter is not None:
            self._exporter.wait()
            self._exporter.deleteLater()
            self._exporter = None
        self._update_actions()

    # ---------------------------------------------------------------- dialogs

    def _ask_save_image(self):
        frame = self.analysis.job.frame if self.analysis and self.analysis.job.stream else None
        suggested = default_output(self._source_path(), ".annotated.png", frame)
        path, _ = QFileDialog.getSaveFileName(self, "Save the annotated image", str(suggested),
                                              "Images (*.png *.jpg *.bmp *.tif *.webp)")
        if path:
            self.save_image(path)

    def _on_record_toggled(self, checked):
        if not checked:
            self.stop_recording()
            return
        suggested = default_output(self._source_path(), ".annotated.avi")
        path, _ = QFileDialog.getSaveFileName(self, "Record the annotated video", str(suggested),
                                              "Videos (*.avi *.mp4)")
        if path:
            self.start_recording(path)
        else:
            self._set_quietly(self.record_action, False)

    def _ask_export_csv(self):
        source = self._source_path()
        if self._paths and len(self._opened_paths) == 1 and self._opened_paths[0].is_dir():
            source = self._opened_paths[0]      # a folder: its CSV beside it, as for one file
        suggested = default_output(source, ".timeline.csv" if self.records else ".csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export the results", str(suggested), "CSV (*.csv)")
        if path:
            self.export_csv(path)
