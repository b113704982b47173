"""Register every mmwsss module and set the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import mmwsss (and the mmseg modules it builds on) so registries are
    filled; optionally make ``mmwsss`` the default scope.

    The imports of higher layers sit in the function, as in
    ``mmseg.utils.register_all_modules``: they run when it is called, so
    ``utils`` stays the bottom layer (the one exemption of
    ``tests/test_layers.py``)."""
    import mmseg.datasets  # noqa: F401
    import mmseg.engine  # noqa: F401
    import mmseg.evaluation  # noqa: F401
    import mmseg.models  # noqa: F401
    import mmseg.visualization  # noqa: F401

    import mmwsss.datasets  # noqa: F401
    import mmwsss.engine  # noqa: F401
    import mmwsss.evaluation  # noqa: F401
    import mmwsss.models  # noqa: F401

    if not init_default_scope:
        return
    never_created = (DefaultScope.get_current_instance() is None
                     or not DefaultScope.check_instance_created('mmwsss'))
    if never_created:
        DefaultScope.get_instance('mmwsss', scope_name='mmwsss')
        return
    current = DefaultScope.get_current_instance()
    if current.scope_name != 'mmwsss':
        warnings.warn('The current default scope '
                      f'"{current.scope_name}" is not "mmwsss"; '
                      '`register_all_modules` forces it to "mmwsss".')
        new_name = f'mmwsss-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_name, scope_name='mmwsss')
