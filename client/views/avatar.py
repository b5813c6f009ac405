"""A round avatar with initials and an optional presence dot."""

import flet as ft

from client.views.format import avatar_color, initials


def avatar(name: str, key: str, online: bool = False, radius: float = 22) -> ft.Control:
    """Initials on a colour chosen from ``key``; a green dot when ``online``."""
    circle = ft.CircleAvatar(
        content=ft.Text(initials(name), color=ft.Colors.WHITE, weight=ft.FontWeight.BOLD),
        bgcolor=avatar_color(key),
        radius=radius,
    )
    if not online:
        return ft.Semantics(content=circle, exclude_semantics=True)
    dot = ft.Container(
        width=radius * 0.55,
        height=radius * 0.55,
        bgcolor=ft.Colors.GREEN_500,
        border_radius=radius,
        border=ft.Border.all(2, ft.Colors.SURFACE),
        right=0,
        bottom=0,
    )
    return ft.Semantics(
        label="online",
        content=ft.Stack([circle, dot], width=radius * 2, height=radius * 2),
    )
