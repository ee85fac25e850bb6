namespace facet::datasets {}
