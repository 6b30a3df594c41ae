"""Docstring fragments shared by the estimators (one place to keep them true)."""

SOLVER_DOC = """
    solver : {"auto", "lbfgs", "newton", "lstsq", "proximal", "gd", "sgd"}, default="auto"
        ``"auto"`` picks from the problem and records its choice in ``solver_``: ``"lstsq"``
        for least squares (up to 2000 features), ``"proximal"`` for other L1 / elastic-net
        fits, ``"newton"`` for smooth GLMs of up to 64 parameters with at least 10 samples
        per parameter, ``"lbfgs"`` otherwise. When X is streamed (see ``placement_``),
        ``"newton"`` for every smooth GLM of up to 500 parameters (fewest passes).
        ``"lbfgs"``: L-BFGS, one distributed loss-and-gradient pass per evaluation.
        ``"newton"``: Newton with the Hessian reduced from the workers (few passes).
        ``"lstsq"``: exact least squares in one pass (Gram statistics, solve on the driver).
        ``"proximal"``: FISTA, for L1 and elastic-net penalties.
        ``"gd"``: full-batch gradient descent (line search, or a fixed ``learning_rate``).
        ``"sgd"``: distributed mini-batch / local SGD; ``max_iter`` then counts epochs.
        A solver that cannot fit the model (e.g. ``"newton"`` with an L1 penalty) raises a
        ``ValueError`` naming those that can, before any cluster work.
    max_iter : int
        Maximum iterations (epochs for ``"sgd"``).
    tol : float
        Stop when the largest entry of the (minimum-norm sub)gradient of the mean-scaled
        objective is at most ``tol`` (``"sgd"``: when the epoch objective improves by less
        than ``tol`` for 5 epochs).
    learning_rate : {"auto", "constant", "invscaling"} or float, default="auto"
        ``"gd"``: ``"auto"`` is an Armijo line search, ``"constant"`` a fixed step ``eta0``.
        ``"sgd"``: ``"auto"`` is ``1 / (L * sqrt(epoch))`` with ``L`` a smoothness bound
        estimated from the data. A number is a constant step of that size.
    eta0 : float, default=0.01
        Initial (or constant) step size.
    power_t : float, default=0.25
        Exponent of the ``"invscaling"`` schedule.
    batch_size : int, default=1024
        ``"sgd"``: rows per mini-batch, over all chunks together.
    local_steps : int, default=1
        ``"sgd"``: SGD steps each chunk takes between model averages (local SGD if > 1).
    warm_start : bool, default=False
        Start from the previous fit's coefficients (when their shape still fits).
    random_state : int, RandomState instance or None, default=None
        Seeds the SGD sampling (per chunk, so the result does not depend on placement).
    verbose : int, default=0
        0: silent; 1: a progress bar of the iterations (``daskgd.callbacks.ProgressBar``);
        2: also log each iteration to the ``"daskgd"`` logger (``LogIterations``).
"""

CLUSTER_NOTE = """
    Notes
    -----
    ``fit`` runs on the active ``distributed.Client`` (the most recently created one); inside
    a task on a dask worker, on ``distributed.worker_client()``. With no active client, it
    connects to dask's ``scheduler-address`` setting (``DASK_SCHEDULER_ADDRESS``) if set, or
    else starts a ``LocalCluster`` for the fit, logged to the ``"daskgd"`` logger; either is
    closed when the fit ends. Create a ``Client`` first to reuse one cluster across fits. A
    client daskgd did not create is never closed.
"""

FITTED_DOC = """
    n_iter_ : int
        Iterations (epochs for ``"sgd"``) run.
    history_ : list of dict
        One record per iteration (full-batch solvers also record the starting point as
        iteration 0): ``iteration``, ``objective`` (of the mean-scaled objective),
        ``grad_norm`` (NaN for ``"sgd"``), ``step`` (NaN for ``"lbfgs"``), ``elapsed``
        (seconds), ``passes`` (over X). ``pandas.DataFrame(model.history_)`` tabulates it.
    converged_ : bool
    stop_reason_ : str or None
        Which callback stopped the last fit early (``fit(..., callbacks=...)``), and after
        which iteration; None otherwise (then ``converged_`` False means ``max_iter``).
    fit_time_ : float
        Seconds the last fit took, placement included.
    solver_ : str
        The solver used (the choice of ``"auto"``).
    placement_ : {"persist", "stream"}
        Where X was during the fit: ``"persist"``, in the workers' memory (NumPy input is
        always scattered there); ``"stream"``, read from its source on every pass, never
        persisted. Chosen by the dask setting ``daskgd.placement`` ("auto", "persist" or
        "stream"; see ``docs/larger-than-memory.md``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Only when X had string column names.
"""
