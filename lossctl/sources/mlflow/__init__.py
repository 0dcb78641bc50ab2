"""MLflow runs, recognised by content: a SQLite tracking store (``mlflow.db``), a file store
(``mlruns/<experiment id>/<run id>/``) and a tracking server (``mlflow+http://host:5000``).

None of them imports mlflow: the SQLite store is read with the standard library's ``sqlite3``
(read-only), the file store through :mod:`lossctl.storage` (so a bucket works as a disk does),
the server through its REST API with ``urllib``. Every run is named ``experiment/run name``
(the run id where the name is missing or repeated within the experiment); its params become
the run's ``hparams``.
"""
