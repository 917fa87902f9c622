"""The detectors' default settings, in one place: the detector classes take their defaults from here, and
:mod:`.registry` (which names the detectors and gives some of them their own settings) from here too.

Light on purpose (no OpenCV, no dlib): a module of its own, because :mod:`.registry` imports every detector
class and so cannot be imported by them.
"""

# Pyramid step of OpenCV's cascades, and raw detections a face needs to be kept.
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
# The pyramid step the from-scratch Viola-Jones cascade was tuned and is trained at.
VIOLA_JONES_SCALE_FACTOR = 1.25
# Smallest face side in pixels; faces in FER2013-like photos are rarely smaller.
MIN_SIZE = 30
# Video: detection runs on the frame scaled by this factor, and scans the whole frame every REFRESH frames.
DETECT_SCALE = 0.5
REFRESH = 10
