"""nbgrader configuration for running nbgrader's own CLI or formgrader in this folder.

`loyalty exercises` and `loyalty grade` (the loyalty_lib/grading package) do not read this file: they build
the same settings with `loyalty_lib.grading.nbgrader_settings()` and run nbgrader in scratch course
folders. This file makes `nbgrader generate_assignment 01-nps` etc. agree with them: instructor
notebooks in solutions/, trainee notebooks in exercises/.
"""

from pathlib import Path

from loyalty_lib.grading import nbgrader_settings

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)
c.merge(
    nbgrader_settings(timeout=60)
)  # course id, solution stub, per-cell timeout (s), output limits

root = Path(__file__).resolve().parent
(root / "out" / "nbgrader").mkdir(parents=True, exist_ok=True)  # SQLite will not create the folder
c.CourseDirectory.root = str(root)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# nbgrader's CLI keeps its gradebook and working folders under out/ (ignored by git).
c.CourseDirectory.db_url = f"sqlite:///{root / 'out' / 'nbgrader' / 'gradebook.db'}"
c.CourseDirectory.submitted_directory = "out/nbgrader/submitted"
c.CourseDirectory.autograded_directory = "out/nbgrader/autograded"
c.CourseDirectory.feedback_directory = "out/nbgrader/feedback"
