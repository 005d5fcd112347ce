"""Helpers for the sphinx-gallery configuration in ``conf.py``.

They live in a module (not in ``conf.py``) so that sphinx-gallery can refer to
them by name, which keeps the configuration picklable.
"""

ORDER = [
    "plot_digits_quickstart.py",
    "plot_pipeline.py",
    "plot_grid_search.py",
    "plot_compare_mlp.py",
    "plot_fashion_mnist.py",
    "plot_conv_filters.py",
    "plot_transformer_embedding.py",
    "plot_recurrent_goodness.py",
    "plot_language_model.py",
]


class ExampleOrder:
    """Sort key: the examples of ``ORDER`` first, in that order, then any
    others alphabetically."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (0, ORDER.index(filename), filename)
        return (1, 0, filename)

    def __repr__(self):
        # Sphinx compares config values by repr to decide whether to rebuild
        return f"<{type(self).__name__}: {ORDER}>"


def reset_threads(gallery_conf, fname):
    """Run every example with one torch thread and one BLAS/OpenMP thread.

    The examples call ``torch.set_num_threads(1)`` themselves; this also limits
    the BLAS that scikit-learn uses (e.g. in ``MLPClassifier``), so that the
    build does not oversubscribe a small or shared machine.
    """
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(limits=1)
