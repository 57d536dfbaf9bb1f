    .file "guest_image.S"
/* The guestvm raw image (objcopy -O binary), page aligned and padded to a
 * whole number of pages: tellus copies it into the TVM with
 * add_tvm_measured_pages.  GUEST_BIN is the path, set by the Makefile. */
    .section .guestimg, "a"
    .balign 4096
    .global guest_image_start, guest_image_end
guest_image_start:
    .incbin GUEST_BIN
    .balign 4096
guest_image_end:
