"""What other pages show of neighbour help: the grid page's section (open posts, recent thanks)."""

from __future__ import annotations

from home.models import Grid

from .models import Response, Thanks
from .services import open_posts

GRID_POSTS = 8
GRID_THANKS = 5


def grid_section(grid: Grid, viewer) -> dict:
    """The grid's open requests and offers and its latest thanks (three queries); the grid page has checked that
    `viewer` is a resident of the grid or staff of its community."""
    posts = list(open_posts(grid).select_related("author__profile")[:GRID_POSTS])
    thanks = list(
        Thanks.objects.filter(response__post__grid=grid, response__status=Response.Status.DONE)
        .exclude(response__post__status="hidden")
        .select_related("response__post", "response__responder__profile", "response__post__author__profile")
        .order_by("-created_at", "-pk")[:GRID_THANKS]
    )
    return {"neighbour_posts": posts, "neighbour_thanks": thanks, "neighbour_grid": grid, "neighbour_viewer": viewer}
