"""Reference solutions of the five exercises: the same names and signatures as ``exercises``."""
