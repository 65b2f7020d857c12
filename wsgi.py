from feedback_intranet import create_app

app = create_app()
