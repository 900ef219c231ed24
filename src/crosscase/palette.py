"""The compendium's colours, in one place: Okabe and Ito's palette, which colour-blind readers
tell apart, for every colour that carries a meaning (each figure that uses one names it in a
legend); and the colours of the framework's perspectives (the framework figure, and the codes of the
REFI-QDA export)."""

from __future__ import annotations

#: Okabe and Ito's colour-blind-safe colours.
BLUE, SKY, ORANGE, VERMILLION, GREY = "#0072B2", "#56B4E9", "#E69F00", "#D55E00", "#999999"
#: A discriminator that holds (meets the rule), and one that falls below it.
HOLDS, FALLS = BLUE, ORANGE
#: Light grey, hatched where it must read without colour.
LIGHT = "#BBBBBB"
#: Each perspective's edge (also its codes' colour in the REFI-QDA export) and fill, in order.
PERSPECTIVE_EDGES = ["#2f6690", "#b5651d", "#3c7a3c", "#6a3d7a"]
PERSPECTIVE_FILLS = ["#dbe9f6", "#fde9d0", "#e3f1dd", "#eee0f3"]
#: Things with no meaning of their own (the codes of the cases).
NEUTRAL = "#777777"
