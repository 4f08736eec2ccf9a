"""Photos and documents (现场照片、佐证材料) on a project, its milestones, approval items and blockers."""


def init_app(app):
    from core.backup import add_file_folder

    from . import storage, views

    views.init_app(app)
    add_file_folder(app, "attachments", storage.folder)
