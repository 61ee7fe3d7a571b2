"""Shape calculator page (placeholder until its issue lands)."""

from pages.ui.frame import coming_soon, frame

frame("shapes")
coming_soon("This page is being built. Meanwhile, explore the other pages from the menu on the left.")
