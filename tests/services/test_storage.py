from django.urls import clear_script_prefix, reverse, set_script_prefix

from tasks_app.services.storage import asset_from_token, asset_url


def test_asset_url_is_the_reversed_route_with_a_token_for_the_file(settings):
    settings.STORAGE_BACKEND = "local"
    url = asset_url("files/w/1/annual report.pdf", base_url="http://h:8000/", filename="annual report.pdf")
    token = url.rsplit("/", 1)[1]
    assert url == "http://h:8000" + reverse("asset", kwargs={"token": token})
    assert asset_from_token(token) == ("files/w/1/annual report.pdf", "annual report.pdf")


def test_asset_url_follows_the_script_prefix():
    set_script_prefix("/chunkr/")
    try:
        assert asset_url("files/a.pdf", base_url="http://h").startswith("http://h/chunkr/assets/")
    finally:
        clear_script_prefix()
    assert asset_url("files/a.pdf", base_url="http://h").startswith("http://h/assets/")
