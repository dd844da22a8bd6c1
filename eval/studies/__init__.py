"""The seeds' studies done properly: model comparison, the pain / no-pain scenarios with the paper's
networks, and leaky against honest splits (:mod:`eval.studies.run` runs them; ``python -m eval studies``).
"""
