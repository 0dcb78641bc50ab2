"""`lossctl watch`: follow runs that are still training and report findings as they appear.

:mod:`~lossctl.watch.follow` reads each file incrementally, :mod:`~lossctl.watch.session` keeps
the state between polls and runs the usual detectors, :mod:`~lossctl.watch.display` prints.
"""
