/* Redis Cluster's key slots: CRC16 (XMODEM) of the key, or of its {hash tag}, mod 16384. */
#include "internal.h"

static uint16_t crc16(const char* buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

uint16_t sf_crc16_slot(const char* key, size_t len)
{
    /* As Redis: the first '{' with a later '}' and something between them is the hash tag. */
    size_t open = 0;
    while (open < len && key[open] != '{') open++;
    if (open < len) {
        size_t close = open + 1;
        while (close < len && key[close] != '}') close++;
        if (close < len && close > open + 1)
            return crc16(key + open + 1, close - open - 1) & 16383;
    }
    return crc16(key, len) & 16383;
}

unsigned sf_tag_for_slot(uint16_t slot)
{
    char text[16];
    for (unsigned n = 0;; n++) {
        int len = 0;
        unsigned v = n;
        char rev[16];
        do { rev[len++] = (char)('0' + v % 10); v /= 10; } while (v);
        for (int i = 0; i < len; i++) text[i] = rev[len - 1 - i];
        if (sf_crc16_slot(text, (size_t)len) == slot) return n;
    }
}
