package order

import "lightbox/internal/order/ordertest"

var forEachDB = ordertest.Each
