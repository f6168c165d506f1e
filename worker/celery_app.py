"""The worker's Celery app: `celery -A worker.celery_app worker`."""

from celery.signals import worker_init, worker_process_init

from newsflow.settings import get_settings
from newsflow.store.db import dispose_engines
from newsflow.taskqueue import make_celery

app = make_celery(get_settings())
app.conf.imports = ("worker.tasks",)


@worker_process_init.connect
def _fresh_connections_after_fork(**_: object) -> None:
    # a forked child must not reuse its parent's database connections
    dispose_engines()


@worker_init.connect
def _warm_up_pipeline(**_: object) -> None:
    # load models and parsers once in the parent, before the pool forks, so children share
    # them and the first article is as fast as the rest
    from worker.pipeline.warmup import warm_up

    warm_up()
