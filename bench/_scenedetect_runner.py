"""Runs PySceneDetect on videos (argv: REPEAT VIDEO...) and prints {"video": {"detector": {"cuts": [...], "seconds": s}}}.

Run by bench/motion_cuts.py with the interpreter of its own venv (PySceneDetect pulls a
non-headless OpenCV, so it never goes into the dev venv):

    python -m venv /tmp/bench-scenedetect
    /tmp/bench-scenedetect/bin/pip install scenedetect opencv-python-headless av
"""

from __future__ import annotations

import json
import sys
import time

from scenedetect import AdaptiveDetector, ContentDetector, SceneManager, open_video


def run(path: str, make: type, repeat: int) -> dict[str, object]:
    """Detects ``repeat`` times; the fastest run's time (the machine is shared)."""
    best = float("inf")
    cuts: list[int] = []
    for _ in range(repeat):
        video = open_video(path, backend="pyav")
        manager = SceneManager()
        manager.add_detector(make())
        started = time.perf_counter()
        manager.detect_scenes(video)
        best = min(best, time.perf_counter() - started)
        scenes = manager.get_scene_list(start_in_scene=True)
        cuts = [start.get_frames() for start, _ in scenes[1:]]
    return {"cuts": cuts, "seconds": best}


def main() -> None:
    result = {}
    repeat = int(sys.argv[1])
    for path in sys.argv[2:]:
        result[path] = {
            "ContentDetector": run(path, ContentDetector, repeat),
            "AdaptiveDetector": run(path, AdaptiveDetector, repeat),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
