"""A round avatar with initials and an optional presence dot."""

import flet as ft

from client.views.format import avatar_color, initials


def avatar(
    name: str, key: str, online: bool = False, radius: float = 22, announce: bool = True
) -> ft.Control:
    """Initials on a colour chosen from ``key``; a green dot when ``online`` (announced as
    "online" unless ``announce`` is False because the caller says it in its own label)."""
    circle = ft.CircleAvatar(
        content=ft.Text(initials(name), color=ft.Colors.WHITE, weight=ft.FontWeight.BOLD),
        bgcolor=avatar_color(key),
        radius=radius,
    )
    dot = ft.Container(
        width=radius * 0.55,
        height=radius * 0.55,
        bgcolor=ft.Colors.GREEN_500,
        border_radius=radius,
        border=ft.Border.all(2, ft.Colors.SURFACE),
        right=0,
        bottom=0,
    )
    if not online:
        return ft.Semantics(content=circle, exclude_semantics=True)
    stack = ft.Stack([circle, dot], width=radius * 2, height=radius * 2)
    if not announce:
        return ft.Semantics(content=stack, exclude_semantics=True)
    return ft.Semantics(label="online", content=stack)
